"""Whether the calculus engine works in this process (for /readyz)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _probe() -> str:
    from service.calculus import engine
    from service.expressions import symbol

    x = symbol("x")
    derivative = engine.differentiate(x**3, x)
    value = engine.compile_numeric([derivative.expr], [x])(2.0)[0]
    if value != 12.0:
        raise RuntimeError(f"d/dx x^3 at 2 gave {value}, expected 12")
    return "sympy and numpy loaded; a derivative compiles and evaluates"


def engine_ready() -> tuple[bool, str]:
    try:
        return True, _probe()
    except Exception as error:  # readiness reports any failure instead of raising
        return False, f"{type(error).__name__}: {error}"
