"""Pure-NumPy optimisation: objectives over compiled callables, optimizers, the descent loop.

Nothing here imports Flask, marshmallow or SymPy: the calculus layer compiles expressions
into callables and hands them in; the HTTP layer serialises ``DescentResult.as_dict()``.
"""

from service.optimize.descent import DescentResult, TraceEntry, descend
from service.optimize.objectives import DataObjective, Objective, ScalarObjective
from service.optimize.optimizers import OPTIMIZERS, OptimizerSpec, get_optimizer

__all__ = [
    "descend", "DescentResult", "TraceEntry",
    "Objective", "ScalarObjective", "DataObjective",
    "OPTIMIZERS", "OptimizerSpec", "get_optimizer",
]
