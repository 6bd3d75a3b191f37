"""For learners: directional derivatives and Taylor models, as response bodies.

Both build on the gradient and the Hessian of :mod:`service.calculus.operations` and keep
the API's conventions: symbolic results as ``{expression, latex}``, values as
``{exact, numeric}``, nulls with warnings where a value is not a finite real.

Where a float is read as an exact number (a direction's components, a Taylor model's
center) it is the decimal it reads as (0.1 is 1/10), as for ``constants``, so the symbolic
results stay exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import factorial
from typing import Any

import sympy

from service.calculus import engine
from service.calculus.engine import Derivative
from service.calculus.operations import (
    _check_order, _Entries, _single, _with_warnings, symbolic,
)
from service.calculus.spec import (
    FunctionSpec, Point, build_point, build_spec, exact_value, is_exact_number,
)
from service.config import Limits
from service.errors import InvalidInput, LimitExceeded
from service.expressions import to_text

# Highest order of a Taylor model in several variables (gradient and Hessian).
MAX_MULTIVARIATE_TAYLOR_ORDER = 2


def directional_derivative(
    limits: Limits, *, expression: str, point, direction, variables=None, normalize: bool = True,
    constants=None,
) -> dict:
    """The derivative of one expression along a direction: u . grad f, at a point.

    ``direction`` is a list aligned with the variables or an object name -> component;
    with ``normalize`` it is scaled to the unit vector u = d / |d| (the zero vector has
    none: a 422), otherwise u = d.
    """
    spec = build_spec([expression], limits, variables=variables, constants=constants)
    d = _direction(direction, spec.variables, limits)
    if normalize:
        if all(c == 0 for c in d):
            raise InvalidInput("direction", "the direction is the zero vector, which has no "
                                            "unit vector: give a nonzero direction, or "
                                            "\"normalize\": false")
        length = sympy.sqrt(sympy.Add(*[c**2 for c in d]))
        d = tuple(c / length for c in d)
    partials = engine.gradient(spec.expressions[0], spec.variable_symbols)
    along = sympy.Add(*[c * p.expr for c, p in zip(d, partials)])
    # The partials are evaluated (quietly) too: where one that the direction uses does not
    # exist (a kink), neither does u . grad f, whatever value its formula gives there.
    entries = _Entries(spec, limits)
    value = entries.add("the function", spec.expressions[0], quiet=True)
    for i, p in enumerate(partials):
        entries.add(f"gradient[{i}]", p, owner=value, quiet=True)
    index = entries.add("value", along, owner=value)
    at_point, evaluated = entries.at(point)
    result, warnings = _single(evaluated, index), list(evaluated.warnings)
    missing = [i for i, c in enumerate(d) if c != 0 and evaluated.numeric[1 + i] is None]
    if missing and result["numeric"] is not None:
        result = {"exact": None, "numeric": None}
        warnings.append(f"value does not exist at this point: gradient[{missing[0]}] is not a "
                        "finite real number there (a kink, a pole or outside the domain)")
    body: dict[str, Any] = {
        "variables": list(spec.variables),
        "direction": {"exact": [to_text(c) for c in d],
                      "numeric": [float(c.evalf(17)) for c in d]},
        "normalized": normalize,
        "directional_derivative": symbolic(along),
        "at": {"point": at_point, "value": result},
    }
    return _with_warnings(body, warnings)


def taylor(
    limits: Limits, *, expression: str, point, order: int, variables=None, constants=None,
) -> dict:
    """The Taylor model of ``order`` around ``point``, in the variables themselves.

    One variable: sum over k <= order of f^(k)(a)/k! (x - a)^k. Several variables (order
    1 or 2): f(a) + grad f(a) . (x - a) + 1/2 (x - a)^T H(a) (x - a). The model needs f and
    its derivatives to be finite reals at the point: otherwise a 422 says which is not.
    """
    _check_order(order, limits)
    spec = build_spec([expression], limits, variables=variables, constants=constants)
    n = len(spec.variables)
    if n > 1 and order > MAX_MULTIVARIATE_TAYLOR_ORDER:
        raise InvalidInput(
            "order", f"a Taylor model in {n} variables has order 1 (gradient) or 2 (Hessian), "
                     f"not {order}; for a higher order, give one variable")
    center = _exact_point(point, spec, limits)
    values = dict(zip(spec.symbols, center.exact))
    f = spec.expressions[0]
    shifts = [x - a for x, a in zip(spec.variable_symbols, center.exact)]
    terms = [_coefficient("the function", f, values, limits)]
    if n == 1:
        for k in range(1, order + 1):
            derivative = engine.differentiate(f, *[spec.variable_symbols[0]] * k)
            c = _coefficient(f"derivative {k}", derivative, values, limits)
            terms.append(_term(c / factorial(k), shifts[0] ** k))
    elif n > 1:
        for i, d in enumerate(engine.gradient(f, spec.variable_symbols)):
            terms.append(_term(_coefficient(f"gradient[{i}]", d, values, limits), shifts[i]))
        if order == 2:
            matrix = engine.hessian(f, spec.variable_symbols)
            for i in range(n):
                for j in range(i, n):
                    h = _coefficient(f"hessian[{i}][{j}]", matrix[i][j], values, limits)
                    weight = sympy.Rational(1, 2) if i == j else sympy.S.One  # H is symmetric
                    terms.append(_term(weight * h, shifts[i] * shifts[j]))
    return {
        "variables": list(spec.variables),
        "point": center.as_json(spec.names),
        "order": order,
        "taylor": _sum_of_terms([t for t in terms if t != 0]),
    }


# --- helpers --------------------------------------------------------------------------

def _exact(value: Any, limits: Limits, field: str) -> sympy.Expr:
    """A coordinate as an exact number; a float is the decimal it reads as (0.1 is 1/10)."""
    if isinstance(value, str):
        return exact_value(value, limits, field)
    if is_exact_number(value):
        return sympy.Integer(int(value))
    return exact_value(repr(float(value)), limits, field)


def _direction(raw, variables: Sequence[str], limits: Limits) -> tuple[sympy.Expr, ...]:
    """The direction as exact components aligned with ``variables``."""
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in variables]
        if unknown:
            raise InvalidInput(
                f"direction/{unknown[0]}",
                f"'{unknown[0]}' is not one of the variables ({', '.join(variables) or 'none'})")
        missing = [v for v in variables if v not in raw]
        if missing:
            raise InvalidInput(
                f"direction/{missing[0]}",
                f"the direction gives no component for '{missing[0]}'; give 0 for a variable "
                "it does not move along")
        items = [(raw[v], f"direction/{v}") for v in variables]
    else:
        if len(raw) != len(variables):
            raise InvalidInput(
                "direction",
                f"the direction has {len(raw)} components but there are {len(variables)} "
                f"variables ({', '.join(variables) or 'none'})")
        items = [(c, f"direction/{i}") for i, c in enumerate(raw)]
    components = []
    for value, field in items:
        component = _exact(value, limits, field)
        if not abs(float(component.evalf(20))) < float("inf"):
            raise InvalidInput(field, f"{value!r} is too large for a float64")
        components.append(component)
    return tuple(components)


def _exact_point(raw, spec: FunctionSpec, limits: Limits) -> Point:
    """The point with every coordinate exact: floats are read as the decimals they show."""
    if isinstance(raw, Mapping):
        decimals = {k: _decimal(v) for k, v in raw.items()}
    else:
        decimals = [_decimal(v) for v in raw]
    return build_point(decimals, spec, limits)


def _decimal(value):
    if isinstance(value, float) and not is_exact_number(value):
        return repr(value)
    return value


def _coefficient(label: str, item, values: dict, limits: Limits) -> sympy.Expr:
    """The exact value of the function or a derivative at the point, or a 422 saying why
    the Taylor model does not exist there."""
    if isinstance(item, Derivative):
        kink = engine.kink_warning(item, values)
        if kink is not None:
            _no_model(f"{label} {kink}")
        expr = item.expr
    else:
        expr = item
    value = engine.substitute(expr, values)
    if value.has(sympy.nan):
        _no_model(f"{label} is undefined at this point")
    if value.has(sympy.zoo, sympy.oo, -sympy.oo):
        _no_model(f"{label} is infinite at this point")
    if value.has(sympy.I) or value.is_extended_real is False:
        _no_model(f"{label} is complex at this point")
    max_bits = int(limits.max_number_digits * 3.33)
    for atom in value.atoms(sympy.Rational):
        if atom.p.bit_length() > max_bits or atom.q.bit_length() > max_bits:
            raise LimitExceeded(
                f"{label} at this point is a number of more than "
                f"{limits.max_number_digits:,} digits", limits.max_number_digits,
                Limits.env_var("max_number_digits"), field="point")
    return value


def _no_model(why: str):
    raise InvalidInput("point", f"the Taylor model does not exist at this point: {why}")


def _term(coefficient: sympy.Expr, monomial: sympy.Expr) -> sympy.Expr:
    """coefficient * (x - a)..., kept as written (SymPy would expand 2*(x - 1))."""
    if coefficient == 0:
        return sympy.S.Zero
    if coefficient == 1:
        return monomial
    number, rest = coefficient.as_coeff_Mul()
    factors = [number] if number != 1 else []
    factors += list(rest.args) if isinstance(rest, sympy.Mul) else [rest] if rest != 1 else []
    factors += list(monomial.args) if isinstance(monomial, sympy.Mul) else [monomial]
    return sympy.Mul(*factors, evaluate=False)


def _sum_of_terms(terms: list[sympy.Expr]) -> dict[str, str]:
    """``{expression, latex}`` of a sum, its terms in the order given (lowest degree first),
    where SymPy's printers would sort them and its Add would expand 2*(x - 1)."""
    if not terms:
        return symbolic(sympy.S.Zero)
    texts, latexes = [], []
    for i, term in enumerate(terms):
        shown = symbolic(term)
        text, latex = shown["expression"], shown["latex"]
        if i > 0 and isinstance(term, sympy.Add):  # a term x - 1 reads as (x - 1)
            text, latex = f"({text})", rf"\left({latex}\right)"
        for parts, printed in ((texts, text), (latexes, latex)):
            if i == 0:
                parts.append(printed)
            elif printed.startswith("-"):
                parts.append(" - " + printed[1:].lstrip())
            else:
                parts.append(" + " + printed)
    return {"expression": "".join(texts), "latex": "".join(latexes)}
