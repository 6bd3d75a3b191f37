"""Step-by-step derivations: the textbook rules that produce a derivative, as a tree.

The walk reads the parsed SymPy expression top-down and applies one rule per node:
constant, variable, sum, constant multiple, product, quotient, power, exponential,
general power, chain, and each function's own rule (``sin``, ``exp``, ``sigmoid``...). Each
step holds the sub-expression, the rule and its result; a rule's result is built from its
substeps' results by the rule's formula, so the root's result is the derivative.

SymPy stores ``a/b`` as ``a*b^-1``: a product with factors of negative exponent is shown
with the quotient rule (numerator and denominator gathered), as a textbook would. The
derivatives of ``heaviside`` and ``sign`` are spikes (``DiracDelta``): as in
:mod:`service.calculus.engine`, they are 0 everywhere but at the jump, where a note says the
derivative does not exist.

A derivation is bounded three ways, so that it costs a small multiple of the derivative
itself: at most ``MAX_STEPS`` steps per answer, nested at most ``MAX_DEPTH`` rules deep, and
printed expressions of at most ``PRINT_FACTOR`` times the size of the function and its
derivatives (deep chains have large intermediate results). Past a bound the remaining
parts are differentiated directly (rule ``"not expanded"``), so the answer stays right.
:func:`agrees` checks that the steps end in the derivative the engine returns.
"""

from __future__ import annotations

import cmath
import random
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy
from sympy import DiracDelta, S

from service.calculus import engine
from service.errors import InvalidInput
from service.expressions import FUNCTIONS, UnprintableExpression, to_latex, to_text

#: Most steps in one answer (all partial derivatives and orders together).
MAX_STEPS = 1000
#: Deepest nesting of steps (JSON encoders nest at most a few hundred levels).
MAX_DEPTH = 60
#: Printed steps hold at most this many times the nodes of the function and its derivatives
#: (plus PRINT_MARGIN): the cost of printing them stays a small multiple of the derivative's.
PRINT_FACTOR = 4
PRINT_MARGIN = 20_000

NOT_EXPANDED = "not expanded"

# SymPy class -> the grammar's name, which is also the name of the function's rule.
_FUNCTION_RULES = {info.sympy_class: info.name for info in FUNCTIONS.values() if info.sympy_class}
# Functions whose derivative does not exist at a kink or jump (where their argument is 0
# for one argument; where two arguments are equal for min and max).
_KINKS = {
    "abs": "abs has a kink: its derivative sign({u}) does not exist at {u} = 0",
    "relu": "relu has a kink: its derivative heaviside({u}) does not exist at {u} = 0",
    "sign": "sign jumps at {u} = 0, where its derivative does not exist",
    "heaviside": "heaviside jumps at {u} = 0, where its derivative does not exist",
    "min": "min has a kink where two arguments are equal: its derivative does not exist there",
    "max": "max has a kink where two arguments are equal: its derivative does not exist there",
}
_NOTE_LENGTH = 60  # longest sub-expression quoted in a note


@dataclass(frozen=True)
class Step:
    """One rule applied to ``expression``, giving ``result`` from the substeps' results."""

    rule: str
    expression: sympy.Expr
    result: sympy.Expr
    substeps: tuple[Step, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Derivation:
    """The steps of each successive derivative of one expression by one variable.

    ``steps[k]`` differentiates the k-th derivative (the expression itself for k = 0), so
    the last step's result is the derivative of the requested order.
    """

    variable: sympy.Symbol
    steps: tuple[Step, ...]
    held_constant: tuple[tuple[str, ...], ...]  # per order: the other names, held constant


@dataclass
class StepBudget:
    """Steps left for one answer; shared by every derivation the answer shows."""

    left: int = MAX_STEPS
    exhausted: bool = field(default=False)
    too_deep: bool = field(default=False)

    def take(self) -> bool:
        if self.left <= 0:
            self.exhausted = True
            return False
        self.left -= 1
        return True


def derivation(expr: sympy.Expr, variable: sympy.Symbol, order: int = 1,
               budget: StepBudget | None = None) -> Derivation:
    """The steps of the first ``order`` derivatives of ``expr`` by ``variable``.

    Each successive derivative starts from the engine's previous derivative (what the
    endpoint returns for that order), so the steps read as a chain of derivatives.
    """
    budget = budget or StepBudget()
    steps, held = [], []
    current = expr
    for k in range(1, order + 1):
        held.append(tuple(sorted(s.name for s in current.free_symbols if s != variable)))
        steps.append(_Walk(variable, budget).step(current))
        if k < order:
            current = engine.differentiate(expr, *[variable] * k).expr
    return Derivation(variable, tuple(steps), tuple(held))


def agrees(result: sympy.Expr, expected: sympy.Expr, function: sympy.Expr | None = None,
           samples: int = 18) -> bool | None:
    """Whether two derivatives of ``function`` are equal: True, False, or None (undecided).

    Cheap checks first: the same expression, a difference that expands to 0 (for small
    expressions only, as expansion can blow up). Then the two are compared at ``samples``
    pseudo-random points (30 significant digits) in the real domain of ``function``: where
    its float64 value, computed in real arithmetic, is finite (every part of it is real
    there). A point where they differ is False; agreement at 3 points is True. Outside the
    real domain the rules of real calculus need not hold (``abs'(u) = sign(u)`` is for real
    u), so there two right derivatives of ``abs(sqrt(x))`` may differ: such points decide
    True only when they all agree, and never False.
    """
    if result == expected:
        return True
    difference = result - expected
    if difference == 0:
        return True
    if _small(difference) and sympy.expand(difference) == 0:
        return True
    free = difference.free_symbols | (function.free_symbols if function is not None else set())
    symbols = sorted(free, key=lambda s: s.name)
    in_domain = _real_domain(function, symbols)
    if not _fewer_nodes_than(difference, 5000):
        samples = min(samples, 6)  # each evaluation of a large expression is slow
    rng = random.Random(20240607)
    real_matches = other_matches = 0
    other_mismatch = False
    for i in range(samples):
        low, high = _SAMPLE_BANDS[i % len(_SAMPLE_BANDS)]
        values = [rng.choice((-1, 1)) * rng.uniform(low, high) for _ in symbols]
        exact_values = {s: sympy.Float(v, 30) for s, v in zip(symbols, values)}
        a, b = _number(result, exact_values), _number(expected, exact_values)
        if a is None or b is None:
            continue
        same = abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-25
        if in_domain(values):
            if not same:
                return False
            real_matches += 1
            if real_matches >= 3 or not symbols:
                return True
        elif same:
            other_matches += 1
        else:
            other_mismatch = True
    if real_matches + other_matches >= 3 and not other_mismatch:
        return True
    return None


_SAMPLE_BANDS = ((0.15, 1.85), (2.0, 12.0), (12.0, 100.0))


def _real_domain(function: sympy.Expr | None, symbols):
    """A test of whether a point lies where ``function`` is real (float64, real arithmetic:
    sqrt(-1) and log(-1) are NaN there); every point when no function is given."""
    if function is None:
        return lambda values: True
    compiled = engine.compile_numeric(function, symbols)

    def in_domain(values) -> bool:
        value = np.asarray(engine.call_numeric(compiled, [np.float64(v) for v in values]))
        return bool(np.isrealobj(value) and np.all(np.isfinite(value)))

    return in_domain


def as_json(derivation_: Derivation, render: _Renderer | None = None) -> list[dict]:
    """The steps as API.md writes them: one top step per order, with its substeps."""
    render = render or _Renderer()
    out = []
    for k, (step, held) in enumerate(zip(derivation_.steps, derivation_.held_constant), 1):
        top = {"variable": derivation_.variable.name, "order": k, "held_constant": list(held)}
        out.append(render.step(step, top))
    return out


def explain(expr: sympy.Expr, variables, order: int = 1,
            max_steps: int = MAX_STEPS) -> tuple[list[list[dict]], list[str]]:
    """The steps of each variable's derivative, checked against the engine's derivative.

    Returns one list of steps per variable (as :func:`as_json` writes them) and warnings:
    when the tree was cut at ``MAX_STEPS``, when a result could not be confirmed equal to
    the derivative, and when it differs from it (those steps are then left out, not shown
    wrong).
    """
    budget = StepBudget(max_steps)
    derivatives = {v: [engine.differentiate(expr, *[v] * k).expr for k in range(1, order + 1)]
                   for v in variables}
    sizes: dict = {}
    printable = PRINT_MARGIN + PRINT_FACTOR * (_tree_size(expr, sizes) + sum(
        _tree_size(d, sizes) for ds in derivatives.values() for d in ds))
    render = _Renderer(printable, sizes)
    explained, warnings = [], []
    for variable in variables:
        found = derivation(expr, variable, order, budget)
        verdicts = [agrees(step.result, expected, step.expression)
                    for step, expected in zip(found.steps, derivatives[variable])]
        if False in verdicts:
            warnings.append(f"steps for {variable.name} are left out: their result differs "
                            "from the derivative (please report this expression)")
            explained.append([])
            continue
        if None in verdicts:
            warnings.append(f"steps for {variable.name}: their result could not be confirmed "
                            "equal to the derivative")
        explained.append(as_json(found, render))
    reasons = [why for why, cut in (
        (f"longer than {max_steps:,} steps", budget.exhausted),
        (f"nested deeper than {MAX_DEPTH} rules", budget.too_deep),
        ("too large to print in full", render.cut),
    ) if cut]
    if reasons:
        warnings.append(f"steps: the derivation is {' and '.join(reasons)}; the rest is "
                        f"differentiated directly (rule \"{NOT_EXPANDED}\")")
    return explained, warnings


# --- the walk -------------------------------------------------------------------------

class _Walk:
    """Differentiate by ``variable``, one rule per node, recording the steps."""

    def __init__(self, variable: sympy.Symbol, budget: StepBudget):
        self.variable = variable
        self.budget = budget
        self.depth = 0
        self._depends: dict[sympy.Basic, bool] = {}

    def depends(self, expr: sympy.Basic) -> bool:
        """Whether ``expr`` contains the variable (memoized: each node is looked at once)."""
        known = self._depends.get(expr)
        if known is None:
            if expr.is_Atom:
                known = expr == self.variable
            else:
                known = any(self.depends(arg) for arg in expr.args)
            self._depends[expr] = known
        return known

    def step(self, expr: sympy.Expr) -> Step:
        if self.depth >= MAX_DEPTH:
            self.budget.too_deep = True
            return self.not_expanded(expr)
        if not self.budget.take():
            return self.not_expanded(expr)
        self.depth += 1
        try:
            return self.apply_rule(expr)
        finally:
            self.depth -= 1

    def apply_rule(self, expr: sympy.Expr) -> Step:
        if not self.depends(expr):
            return Step("constant", expr, S.Zero, note=_constant_note(expr))
        if expr == self.variable:
            return Step("variable", expr, S.One, note=f"d/d{_name(expr)} {_name(expr)} = 1")
        if isinstance(expr, sympy.Add):
            return self.sum(expr)
        if isinstance(expr, sympy.Mul):
            return self.product(expr)
        if isinstance(expr, sympy.Pow):
            return self.power(expr)
        if type(expr) in _FUNCTION_RULES:
            return self.function(expr)
        return self.not_expanded(expr, f"no textbook rule for {type(expr).__name__}")

    def not_expanded(self, expr: sympy.Expr, why: str | None = None) -> Step:
        note = why or "the derivation is too long to show in full"
        result = engine.differentiate(expr, self.variable).expr
        return Step(NOT_EXPANDED, expr, result, note=f"{note}: differentiated directly")

    def sum(self, expr: sympy.Add) -> Step:
        substeps = []
        terms = expr.as_ordered_terms()  # in the order the expression prints
        for i, term in enumerate(terms):
            if self.budget.left <= 0:  # one step for all the remaining terms
                substeps.append(self.not_expanded(sympy.Add(*terms[i:])))
                self.budget.exhausted = True
                break
            substeps.append(self.step(term))
        result = sympy.Add(*[s.result for s in substeps])
        return Step("sum", expr, result, tuple(substeps),
                    "the derivative of a sum is the sum of the derivatives of its terms")

    def product(self, expr: sympy.Mul) -> Step:
        constant = [f for f in expr.args if not self.depends(f)]
        varying = [f for f in expr.args if self.depends(f)]
        if constant:
            c, rest = sympy.Mul(*constant), sympy.Mul(*varying)
            inner = self.step(rest)
            note = f"(c*f)' = c*f', with c = {_short(c)}"
            held = _held_names(c)
            if held:
                note += f"; {held}"
            return Step("constant multiple", expr, _times(c, inner.result), (inner,), note)
        below = [f for f in varying if _is_denominator(f)]
        if below:
            numerator = sympy.Mul(*[f for f in varying if not _is_denominator(f)])
            denominator = sympy.Mul(*[f.base ** -f.exp for f in below])
            top, bottom = self.step(numerator), self.step(denominator)
            result = (top.result * denominator - numerator * bottom.result) / denominator**2
            note = (f"(f/g)' = (f'*g - f*g')/g^2, with f = {_short(numerator)} and "
                    f"g = {_short(denominator)}")
            return Step("quotient", expr, result, (top, bottom), note)
        first, rest = varying[0], sympy.Mul(*varying[1:])
        left, right = self.step(first), self.step(rest)
        result = left.result * rest + first * right.result
        note = f"(f*g)' = f'*g + f*g', with f = {_short(first)} and g = {_short(rest)}"
        return Step("product", expr, result, (left, right), note)

    def power(self, expr: sympy.Pow) -> Step:
        base, exponent = expr.base, expr.exp
        direct = _name(self.variable)
        if not self.depends(exponent):  # u^n
            rule = "sqrt" if exponent == S.Half else "power"
            outer = _times(exponent, base ** (exponent - 1))

            def formula(u: str) -> str:
                if rule == "sqrt":
                    return f"d/d{u} sqrt({u}) = 1/(2*sqrt({u}))"
                text = f"d/d{u} {u}^n = n*{u}^(n - 1), with n = {_short(exponent)}"
                held = _held_names(exponent)
                return f"{text}; {held}" if held else text

            if base == self.variable:
                return Step(rule, expr, outer, note=formula(direct))
            return self.chain(expr, Step(rule, expr, outer, note=_at(formula("u"), base)), base)
        if not self.depends(base):  # a^u

            def formula(u: str) -> str:
                return f"d/d{u} a^{u} = a^{u}*log(a), with a = {_short(base)}"

            outer = expr * sympy.log(base)
            if exponent == self.variable:
                return Step("exponential", expr, outer, note=formula(direct))
            outer_step = Step("exponential", expr, outer, note=_at(formula("u"), exponent))
            return self.chain(expr, outer_step, exponent)
        # f^g: both vary; f^g = exp(g*log(f)) gives the rule
        low, high = self.step(base), self.step(exponent)
        result = expr * (high.result * sympy.log(base) + exponent * low.result / base)
        note = (f"(f^g)' = f^g*(g'*log(f) + g*f'/f) (from f^g = exp(g*log(f))), with "
                f"f = {_short(base)} and g = {_short(exponent)}")
        return Step("general power", expr, result, (low, high), note)

    def function(self, expr: sympy.Expr) -> Step:
        name = _FUNCTION_RULES[type(expr)]
        # heaviside(x) is Heaviside(x, 1/2): its value at 0 is not an argument of the grammar
        args = expr.pargs if isinstance(expr, sympy.Heaviside) else expr.args
        if len(args) == 1:
            outer = _outer_derivative(type(expr), args[0])
            if args[0] == self.variable:
                note = _formula(type(expr), name, _name(self.variable))
                return Step(name, expr, outer,
                            note=_with_kink(name, note, _name(self.variable)))
            note = _at(_formula(type(expr), name, "u"), args[0])
            outer_step = Step(name, expr, outer, note=_with_kink(name, note))
            return self.chain(expr, outer_step, args[0])
        # several arguments (atan2, min, max): the chain rule summed over the arguments
        substeps, terms = [], []
        for i, arg in enumerate(args):
            if not self.depends(arg):
                continue
            inner = self.step(arg)
            partial = _outer_partial(type(expr), len(args), i).xreplace(
                dict(zip(_dummies(len(args)), args)))
            terms.append(_without_spikes(partial) * inner.result)
            substeps.append(inner)
        note = (f"chain rule for a function of several arguments: the sum over the "
                f"arguments of d{name}/d(argument) times the argument's derivative")
        return Step(name, expr, sympy.Add(*terms), tuple(substeps), _with_kink(name, note))

    def chain(self, expr: sympy.Expr, outer: Step, inner_expr: sympy.Expr) -> Step:
        """f(g(x))' = f'(g(x)) * g'(x): the outer rule at the inner function, times its steps."""
        self.budget.left -= 1  # the outer step
        inner = self.step(inner_expr)
        note = f"(f(g))' = f'(g)*g', with the inner function g = {_short(inner_expr)}"
        return Step("chain", expr, outer.result * inner.result, (outer, inner), note)


# --- helpers --------------------------------------------------------------------------

def _times(c: sympy.Expr, expr: sympy.Expr) -> sympy.Expr:
    """c*expr, keeping 2*(x + 1) as written (SymPy would distribute a number over a sum)."""
    if c.is_Number and isinstance(expr, sympy.Add) and c not in (S.One, S.Zero):
        return sympy.Mul(c, expr, evaluate=False)
    return c * expr


def _is_denominator(factor: sympy.Expr) -> bool:
    return (isinstance(factor, sympy.Pow) and factor.exp.is_number
            and bool(factor.exp.is_negative))


@lru_cache(maxsize=8)
def _dummies(n: int) -> tuple[sympy.Dummy, ...]:
    return tuple(sympy.Dummy(f"u{i}", real=True) for i in range(n))


@lru_cache(maxsize=256)
def _outer_partial(function: type, n_args: int, index: int) -> sympy.Expr:
    """d f(u_0, .., u_n-1) / d u_index, in the dummies (spikes still in)."""
    dummies = _dummies(n_args)
    return sympy.diff(function(*dummies), dummies[index])


@lru_cache(maxsize=1024)
def _formula(function: type, name: str, u: str) -> str | None:
    """'d/du sin(u) = cos(u)': the rule of a one-argument function in the name ``u``."""
    argument = sympy.Symbol(u, real=True)
    derivative = sympy.diff(function(argument), argument)
    spikes = derivative.has(DiracDelta)
    try:
        text = to_text(_without_spikes(derivative))
    except UnprintableExpression:
        return None
    return f"d/d{u} {name}({u}) = {text}" + (f" for {u} != 0" if spikes else "")


def _outer_derivative(function: type, argument: sympy.Expr) -> sympy.Expr:
    """f'(g): the derivative of a one-argument function, at its argument."""
    partial = _outer_partial(function, 1, 0).xreplace({_dummies(1)[0]: argument})
    return _without_spikes(partial)


def _without_spikes(expr: sympy.Expr) -> sympy.Expr:
    """DiracDelta(u) -> 0, its value wherever it is defined (as the engine does)."""
    if not expr.has(DiracDelta):
        return expr
    return expr.replace(lambda e: isinstance(e, DiracDelta), lambda e: S.Zero)


def _with_kink(name: str, note: str | None, u: str = "u") -> str | None:
    kink = _KINKS.get(name)
    if kink is None:
        return note
    kink = kink.format(u=u)
    return f"{note}; {kink}" if note else kink


def _at(formula: str | None, inner: sympy.Expr) -> str | None:
    if formula is None:
        return None
    return f"{formula}, at u = {_short(inner)}"


def _constant_note(expr: sympy.Expr) -> str:
    held = _held_names(expr)
    return "the derivative of a constant is 0" + (f"; {held}" if held else "")


def _held_names(expr: sympy.Expr) -> str | None:
    """'y is held constant', 'x and y are held constant', or None without names."""
    names = sorted(s.name for s in expr.free_symbols)
    if not names:
        return None
    if len(names) == 1:
        return f"{names[0]} is held constant"
    return f"{', '.join(names[:-1])} and {names[-1]} are held constant"


def _name(symbol: sympy.Symbol) -> str:
    return symbol.name


def _short(expr: sympy.Expr) -> str:
    """The text of a small expression for a note, cut at ``_NOTE_LENGTH`` characters; a
    large one is described rather than printed (printing it would cost more than the step)."""
    if not _fewer_nodes_than(expr, 4 * _NOTE_LENGTH):
        if isinstance(expr, (sympy.Add, sympy.Mul)):
            kind = "sum" if isinstance(expr, sympy.Add) else "product"
            return f"<a {kind} of {len(expr.args)} terms>"
        return f"<a large {type(expr).__name__.lower()}>"
    try:
        text = to_text(expr)
    except UnprintableExpression:
        text = str(expr)
    return text if len(text) <= _NOTE_LENGTH else text[:_NOTE_LENGTH - 3] + "..."


def _fewer_nodes_than(expr: sympy.Basic, limit: int) -> bool:
    """Whether ``expr`` has fewer than ``limit`` nodes (looks at ``limit`` nodes at most)."""
    for seen, _ in enumerate(sympy.preorder_traversal(expr)):
        if seen >= limit:
            return False
    return True


def _small(expr: sympy.Expr) -> bool:
    """Small enough to expand: few nodes and no large integer powers."""
    if not _fewer_nodes_than(expr, 400):
        return False
    return all(not (p.exp.is_Integer and abs(p.exp) > 12) for p in expr.atoms(sympy.Pow))


def _number(expr: sympy.Expr, values: dict) -> complex | None:
    """The value of ``expr`` at ``values`` (30 digits), or None where not a finite number."""
    try:
        value = complex(expr.xreplace(values).evalf(30))
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    return value if cmath.isfinite(value) else None


def _tree_size(expr: sympy.Basic, sizes: dict) -> int:
    """Nodes of ``expr`` as a tree (what printing visits), in time linear in its DAG."""
    known = sizes.get(expr)
    if known is None:
        known = sizes[expr] = 1 + sum(_tree_size(arg, sizes) for arg in expr.args)
    return known


class _Renderer:
    """Text and LaTeX of each expression of a derivation, each printed once.

    Bounded by ``printable`` nodes: once they are printed, the steps below the current
    one are left out (its rule becomes "not expanded"), as printing large intermediate
    results would cost far more than the derivative itself.
    """

    def __init__(self, printable: int | None = None, sizes: dict | None = None):
        self._printed: dict[sympy.Expr, tuple[str, str]] = {}
        self.left = printable
        self.sizes = sizes if sizes is not None else {}
        self.cut = False

    def __call__(self, expr: sympy.Expr) -> tuple[str, str]:
        printed = self._printed.get(expr)
        if printed is None:
            try:
                printed = self._printed[expr] = (to_text(expr), to_latex(expr))
            except UnprintableExpression as error:
                raise InvalidInput(
                    "steps", f"a step cannot be written in the expression syntax ({error})"
                ) from None
            if self.left is not None:
                self.left -= _tree_size(expr, self.sizes)
        return printed

    def step(self, step: Step, extra: dict | None = None) -> dict:
        expression, expression_latex = self(step.expression)
        result, result_latex = self(step.result)
        rule, note, substeps = step.rule, step.note, step.substeps
        if substeps and self.left is not None and self.left <= 0:
            self.cut = True
            rule, note, substeps = NOT_EXPANDED, "the derivation is too large to print in full", ()
        out: dict = {"rule": rule, **(extra or {}), "expression": expression,
                     "result": result, "latex": {"expression": expression_latex,
                                                 "result": result_latex}}
        if note:
            out["note"] = note
        out["substeps"] = [self.step(s) for s in substeps]
        return out
