"""SymPy's printing order for SymEngine trees: the order of the terms of a sum and of the
factors of a product that SymPy's printers use (``as_ordered_terms``/``as_ordered_factors``).

REFERENCE IMPLEMENTATION (slow): converts to SymPy, asks SymPy, maps the order back.
It fixes the interface; a native implementation replaces it.
"""

from __future__ import annotations

import symengine as se

from service.calculus import fast

__all__ = ["ordered_terms", "ordered_factors"]


def _in_sympy_order(expr: se.Basic, sympy_order) -> list[se.Basic]:
    by_sympy = {fast.to_sympy(arg): arg for arg in expr.args}
    ordered = [by_sympy[term] for term in sympy_order(fast.to_sympy(expr))]
    if len(ordered) != len(expr.args):
        raise fast.Unsupported("SymPy regroups this node")
    return ordered


def ordered_terms(expr: se.Basic) -> list[se.Basic]:
    """The args of a SymEngine Add in the order SymPy's printers write the terms."""
    return _in_sympy_order(expr, lambda e: e.as_ordered_terms())


def ordered_factors(expr: se.Basic) -> list[se.Basic]:
    """The args of a SymEngine Mul in the order ``as_ordered_factors`` gives."""
    return _in_sympy_order(expr, lambda e: e.as_ordered_factors())
