"""The registry of the grammar's functions and constants: the only names text can call.

One table drives the parser (names and arities), the builder (how to make the SymPy
object), the printer (which SymPy class prints as which name) and ``GET /v1/functions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Callable, Mapping

import sympy
from sympy.functions.elementary.trigonometric import _pi_coeff

from service.expressions.custom_functions import cbrt, relu, sigmoid, softplus


class Undefined(ValueError):
    """A function was called where it has no value (``log(0)``); the builder adds the position."""


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    min_args: int
    max_args: int | None  # None: any number from min_args up
    signature: str
    description: str
    build: Callable[..., sympy.Expr]
    sympy_class: type | None = None  # the SymPy class printed with this name (None: an alias)
    power: sympy.Rational | None = None  # set when the function is x^power (built as a power)

    def arity_text(self) -> str:
        """'1 argument', '1 or 2 arguments', '2 or more arguments'."""
        if self.max_args is None:
            return f"{self.min_args} or more arguments"
        if self.max_args == self.min_args:
            return f"{self.min_args} argument" + ("s" if self.min_args != 1 else "")
        return f"{self.min_args} or {self.max_args} arguments"


@dataclass(frozen=True)
class ConstantInfo:
    name: str
    value: sympy.Expr
    description: str


def reciprocal_trig(cls: type, arg: sympy.Expr) -> sympy.Expr:
    """``cls(arg)`` for sympy.csc or sympy.sec as SymPy 1.14 evaluates it
    (``ReciprocalTrigonometricFunction.eval``, step for step), except its last step: there
    SymPy writes 1/(-cos(w)) as -sec(w) with ``rewrite(sec)``, which also rewrites w, and
    csc(z - pi/2 + cosh(3)) became -sec(z + 1/sec(3*I)), whose assumptions fail (or call
    the value complex). Here only the top is rewritten: -sec(z + cosh(3))."""
    if arg.could_extract_minus_sign():
        if cls._is_even:
            return reciprocal_trig(cls, -arg)
        if cls._is_odd:
            return -reciprocal_trig(cls, -arg)
    pi_coeff = _pi_coeff(arg)
    if pi_coeff is not None and not (2 * pi_coeff).is_integer and pi_coeff.is_Rational:
        q = pi_coeff.q
        p = pi_coeff.p % (2 * q)
        if p > q:
            return -reciprocal_trig(cls, (pi_coeff - 1) * sympy.pi)
        if 2 * p > q:
            narg = (1 - pi_coeff) * sympy.pi
            if cls._is_odd:
                return reciprocal_trig(cls, narg)
            if cls._is_even:
                return -reciprocal_trig(cls, narg)
    if hasattr(arg, "inverse") and arg.inverse() == cls:
        return arg.args[0]
    t = cls._reciprocal_of.eval(arg)
    if t is None:
        return cls(arg)  # SymPy's eval gives None too; its constructor evaluates floats
    for function, reciprocal in ((sympy.cos, sympy.sec), (sympy.sin, sympy.csc)):
        if isinstance(t, function):
            return reciprocal_trig(reciprocal, t.args[0])
        if isinstance(-t, function):
            return -reciprocal_trig(reciprocal, (-t).args[0])
    return 1 / t


_RECIPROCAL_TRIG = {sympy.csc: partial(reciprocal_trig, sympy.csc),
                    sympy.sec: partial(reciprocal_trig, sympy.sec)}


def construct(func: type, args) -> sympy.Expr:
    """``func(*args)``, with csc and sec built by :func:`reciprocal_trig` (substitution
    builds nodes again)."""
    build = _RECIPROCAL_TRIG.get(func)
    return build(*args) if build is not None else func(*args)


def _log(x, base=None):
    if x == 0:
        raise Undefined("log(0) is undefined (it is -infinity)")
    if base is None:
        return sympy.log(x)
    if base == 0 or base == 1:
        raise Undefined(f"a logarithm to base {base} is undefined")
    return sympy.log(x, base)


def _unary(name: str, sympy_class, description: str, *, printed: bool = True) -> FunctionInfo:
    build = _RECIPROCAL_TRIG.get(sympy_class, sympy_class)
    return FunctionInfo(name, 1, 1, f"{name}(x)", description, build,
                        sympy_class if printed else None)


FUNCTIONS: Mapping[str, FunctionInfo] = MappingProxyType({info.name: info for info in (
    _unary("sin", sympy.sin, "sine (x in radians)"),
    _unary("cos", sympy.cos, "cosine (x in radians)"),
    _unary("tan", sympy.tan, "tangent (x in radians)"),
    _unary("sec", sympy.sec, "secant, 1/cos(x)"),
    _unary("csc", sympy.csc, "cosecant, 1/sin(x)"),
    _unary("cot", sympy.cot, "cotangent, 1/tan(x)"),
    _unary("asin", sympy.asin, "inverse sine, in [-pi/2, pi/2]"),
    _unary("acos", sympy.acos, "inverse cosine, in [0, pi]"),
    _unary("atan", sympy.atan, "inverse tangent, in (-pi/2, pi/2)"),
    FunctionInfo("atan2", 2, 2, "atan2(y, x)", "angle of the point (x, y) from the positive "
                 "x axis, in (-pi, pi]", sympy.atan2, sympy.atan2),
    _unary("sinh", sympy.sinh, "hyperbolic sine"),
    _unary("cosh", sympy.cosh, "hyperbolic cosine"),
    _unary("tanh", sympy.tanh, "hyperbolic tangent"),
    _unary("asinh", sympy.asinh, "inverse hyperbolic sine"),
    _unary("acosh", sympy.acosh, "inverse hyperbolic cosine, for x >= 1"),
    _unary("atanh", sympy.atanh, "inverse hyperbolic tangent, for -1 < x < 1"),
    _unary("exp", sympy.exp, "e to the power x"),
    FunctionInfo("log", 1, 2, "log(x, base)", "natural logarithm; log(x, b) is the logarithm "
                 "to base b, log(x)/log(b)", _log, sympy.log),
    FunctionInfo("ln", 1, 1, "ln(x)", "natural logarithm, the same as log(x)", _log),
    FunctionInfo("log2", 1, 1, "log2(x)", "logarithm to base 2", partial(_log, base=2)),
    FunctionInfo("log10", 1, 1, "log10(x)", "logarithm to base 10", partial(_log, base=10)),
    FunctionInfo("sqrt", 1, 1, "sqrt(x)", "principal square root, x^(1/2)", sympy.sqrt,
                 power=sympy.Rational(1, 2)),
    _unary("cbrt", cbrt, "real cube root: cbrt(-8) = -2"),
    _unary("abs", sympy.Abs, "absolute value |x|"),
    _unary("sign", sympy.sign, "sign of x: -1, 0 or 1"),
    _unary("heaviside", sympy.Heaviside, "step function: 0 for x < 0, 1 for x > 0, "
           "heaviside(0) = 1/2"),
    FunctionInfo("min", 2, None, "min(a, b, ...)", "smallest of the arguments", sympy.Min,
                 sympy.Min),
    FunctionInfo("max", 2, None, "max(a, b, ...)", "largest of the arguments", sympy.Max,
                 sympy.Max),
    _unary("erf", sympy.erf, "error function, 2/sqrt(pi) times the integral of exp(-t^2) "
           "from 0 to x"),
    _unary("sigmoid", sigmoid, "logistic function 1/(1 + exp(-x))"),
    _unary("softplus", softplus, "log(1 + exp(x)), a smooth relu"),
    _unary("relu", relu, "rectified linear unit max(0, x)"),
)})

CONSTANTS: Mapping[str, ConstantInfo] = MappingProxyType({info.name: info for info in (
    ConstantInfo("pi", sympy.pi, "the ratio of a circle's circumference to its diameter"),
    ConstantInfo("e", sympy.E, "Euler's number, the base of the natural logarithm"),
)})
