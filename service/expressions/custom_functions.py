"""SymPy functions the grammar adds: sigmoid, softplus, relu and the real cube root.

Each is a real function of a real argument with its derivative, exact values where they
exist, a rewrite into SymPy builtins (used for numeric evaluation with ``evalf``) and its
LaTeX. SymPy's own ``cbrt`` is ``x**(1/3)``, the principal (complex) root for x < 0, which
is why the real cube root is a function of its own here.
"""

from __future__ import annotations

import sympy
from mpmath.libmp import prec_to_dps
from sympy import S


class _RealFunction(sympy.Function):
    """Common ground: one argument, real for real arguments, evaluated numerically via
    ``_builtin_form`` (the same function written with SymPy builtins)."""

    def _builtin_form(self) -> sympy.Expr:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_finite(self):
        return True if self.args[0].is_finite else None

    def _eval_evalf(self, prec):
        if not self.args[0].is_number:
            return None
        return self._builtin_form().evalf(prec_to_dps(prec))

    def _latex_call(self, printer, head: str, exp) -> str:
        text = rf"{head}\left({printer._print(self.args[0])}\right)"
        return rf"{head}^{{{exp}}}\left({printer._print(self.args[0])}\right)" if exp else text


class _PositiveFunction(_RealFunction):
    """Positive for real arguments (sigmoid, softplus), and says so: SymPy would otherwise
    take the sign of such a number from a 2-digit evaluation, which makes
    softplus(-16 - 4*pi) = 3.9e-13 zero (the log of 1.0), and cosh of it 1."""

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None

    _eval_is_extended_positive = _eval_is_positive

    def _eval_is_zero(self):
        return False if self.args[0].is_real else None

    _eval_is_extended_negative = _eval_is_zero


class sigmoid(_PositiveFunction):
    """The logistic function 1/(1 + exp(-x))."""

    @classmethod
    def eval(cls, x):
        if x is S.NaN or x is S.ComplexInfinity:  # as exp(zoo): never a value to ask about
            return S.NaN
        if x.is_zero:
            return S.Half
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))

    def _builtin_form(self):
        return self._eval_rewrite_as_exp(self.args[0])

    def _latex(self, printer, exp=None):
        return self._latex_call(printer, r"\sigma", exp)


class softplus(_PositiveFunction):
    """log(1 + exp(x)), the smooth ReLU; its derivative is sigmoid(x)."""

    @classmethod
    def eval(cls, x):
        if x is S.NaN or x is S.ComplexInfinity:
            return S.NaN
        if x.is_zero:
            return sympy.log(2)
        if x is S.Infinity:
            return S.Infinity
        if x is S.NegativeInfinity:
            return S.Zero
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sympy.log(1 + sympy.exp(x))

    def _builtin_form(self):
        return self._eval_rewrite_as_log(self.args[0])

    def _latex(self, printer, exp=None):
        return self._latex_call(printer, r"\operatorname{softplus}", exp)


class relu(_RealFunction):
    """max(0, x); its derivative is heaviside(x)."""

    @classmethod
    def eval(cls, x):
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_nonpositive:
            return S.Zero
        return None

    def fdiff(self, argindex=1):
        return sympy.Heaviside(self.args[0])

    def _eval_is_nonnegative(self):
        return True if self.args[0].is_real else None

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sympy.Max(0, x)

    def _eval_rewrite_as_Heaviside(self, x, **kwargs):
        return x * sympy.Heaviside(x)

    def _builtin_form(self):
        return self._eval_rewrite_as_Max(self.args[0])

    def _latex(self, printer, exp=None):
        return self._latex_call(printer, r"\operatorname{ReLU}", exp)


class cbrt(_RealFunction):
    """The real cube root: cbrt(-8) = -2, odd, exact for perfect cubes."""

    @classmethod
    def eval(cls, x):
        if x.is_Rational:
            root_p, exact_p = sympy.integer_nthroot(abs(x.p), 3)
            root_q, exact_q = sympy.integer_nthroot(x.q, 3)
            if exact_p and exact_q:
                return sympy.Rational(root_p, root_q) * (-1 if x.p < 0 else 1)
        if x.is_Pow and x.exp == 3 and x.base.is_extended_real:
            return x.base
        if x.could_extract_minus_sign():
            return -cls(-x)
        return None

    def fdiff(self, argindex=1):
        return 1 / (3 * self**2)

    def _eval_power(self, exponent):
        # cbrt(x)^3 = x for every real x; cbrt(x)^(3k) = x^k
        if exponent.is_Integer and exponent % 3 == 0:
            return self.args[0] ** (exponent / 3)
        return None

    def _eval_is_positive(self):
        return self.args[0].is_extended_positive

    def _eval_is_negative(self):
        return self.args[0].is_extended_negative

    def _eval_is_zero(self):
        return self.args[0].is_zero

    def _eval_rewrite_as_Pow(self, x, **kwargs):
        return sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3)

    def _builtin_form(self):
        return self._eval_rewrite_as_Pow(self.args[0])

    def _latex(self, printer, exp=None):
        root = rf"\sqrt[3]{{{printer._print(self.args[0])}}}"
        return rf"\left({root}\right)^{{{exp}}}" if exp else root


class logtanh(sympy.Function):
    """log(tanh(x)), in compiled stable forms only (engine._stable_forms): not in the grammar
    and never in an answer. Evaluated numerically as that expression."""

    def _eval_evalf(self, prec):
        if not self.args[0].is_number:
            return None
        return sympy.log(sympy.tanh(self.args[0])).evalf(prec_to_dps(prec))


class erfc(sympy.erfc):
    """erfc(x) kept as written, in compiled stable forms only (engine._stable_forms: 1 + erf(u)
    is erfc(-u)). SymPy's erfc writes erfc(-u) as 2 - erfc(u), which cancels, and lambdify's
    cse builds nodes again, so ``evaluate=False`` does not last. Prints as erfc."""

    @classmethod
    def eval(cls, arg):
        return None
