"""Variable names: the one place symbols are made, and the check a name must pass.

Every symbol is real, so that ``abs``, ``sign`` and the custom functions differentiate and
simplify as real functions, and every part of the service gets the same object for a name.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sympy

from service.errors import InvalidInput
from service.expressions.functions import FUNCTIONS

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=4096)
def symbol(name: str) -> sympy.Symbol:
    """Return the real symbol called ``name`` (any name: ``lambda``, ``I``, ``__import__``)."""
    return sympy.Symbol(name, real=True)


def check_variable_name(name: str, field: str) -> None:
    """Raise InvalidInput for ``field`` unless ``name`` can be written as a variable."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        shown = repr(name) if len(repr(name)) <= 40 else repr(name)[:37] + "..."
        raise InvalidInput(
            field,
            f"{shown} is not a valid name: use ASCII letters, digits and '_', "
            "starting with a letter or '_'",
        )
    if name in FUNCTIONS:
        raise InvalidInput(field, f"'{name}' is the name of a function; choose another name")
