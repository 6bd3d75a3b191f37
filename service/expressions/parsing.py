"""The front door: text -> tokens -> syntax tree -> SymPy, with the limits checked at each step.

User text is never evaluated: the parser reads it into our own tree, and the builder
makes SymPy objects only from the function and constant registry and from real symbols.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Collection, Mapping

import sympy

from service.config import Limits
from service.errors import ExpressionError
from service.expressions.builder import Parsed, build
from service.expressions.parser import parse_tree

_NO_CONSTANTS: Mapping[str, sympy.Expr] = MappingProxyType({})


def parse(text: str, limits: Limits, *, constants: Mapping[str, sympy.Expr] = _NO_CONSTANTS,
          variables: Collection[str] = (), allow_names: bool = True) -> Parsed:
    """Parse ``text`` into an exact SymPy expression.

    Names resolve in this order: a ``constants`` entry (its value), a listed variable, the
    constants ``pi`` and ``e``, and then, if ``allow_names``, a new variable. With
    ``allow_names=False`` (exact coordinates such as ``"pi/4"``) any other name is an error.

    Raises ExpressionError (with the 0-based position) or LimitExceeded.

    Examples
    --------
    >>> from service.config import Limits
    >>> parse("2x^2 - 1/2x", Limits()).expr
    2*x**2 - x/2
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}", None)
    variables = frozenset(variables)
    tree = parse_tree(text, limits, non_functions=variables.union(constants))
    return build(tree, text, limits, constants=constants, variables=variables,
                 allow_names=allow_names)
