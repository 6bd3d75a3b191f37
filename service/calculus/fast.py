"""SymEngine behind :mod:`service.calculus.engine`: fast differentiation, CSE and compilation.

SymPy stays the engine of record: expressions are built by our parser as SymPy objects,
results are SymPy objects, and they are printed by our SymPy printers. SymEngine (the SymPy
project's C++ core) does only the heavy steps, where SymPy spends its time in the
assumptions system:

- :func:`differentiate`: converts a SymPy expression made only of parts whose SymEngine
  derivative equals SymPy's, differentiates in SymEngine and converts back with SymPy's own
  constructors (so SymPy's automatic simplifications with real symbols apply as they do in
  ``sympy.diff``); functions are converted as SymPy wrote them (:func:`as_written`:
  SymEngine would make erf(y - 1) into -erf(1 - y), whose derivative has exp(-(1 - y)**2)
  where ``sympy.diff`` writes exp(-(y - 1)**2)). tests/performance checks the results on
  the test corpus: first derivatives of the textbook table are the very objects
  ``sympy.diff`` gives; elsewhere (second derivatives, compositions) a numeric factor may
  stay outside a sum that SymPy would have multiplied in (``2*(tan(x)^2 + 1)*tan(x)`` for
  ``(2*tan(x)^2 + 2)*tan(x)``): equal after ``expand``, and equal in value. ~100x faster
  than ``sympy.diff``.
- :func:`compile_numeric`: common-subexpression elimination in SymEngine, then NumPy source
  code written from the SymEngine tree (the same NumPy calls ``sympy.lambdify`` makes),
  compiled once. ~20x faster than ``lambdify(..., cse=True)``.

Anything else (the non-smooth functions, whose derivatives carry DiracDelta/Heaviside; the
custom functions in derivatives; acosh, whose SymEngine derivative is written differently;
atan2, which SymEngine simplifies wrongly: atan2(x, x) = pi/4 even for x < 0;
floats; symbols not made by :func:`service.expressions.symbol`) raises :class:`Unsupported`
and the caller uses SymPy. Conversions are explicit tree walks over a whitelist of node
types: no text is ever evaluated, by SymEngine or SymPy.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np
import sympy
import symengine as se

from service.expressions import NUMERIC_FUNCTIONS, symbol
from service.expressions.custom_functions import cbrt, erfc, logtanh, relu, sigmoid, softplus

__all__ = ["Unsupported", "as_written", "compile_numeric", "differentiate", "to_symengine",
           "to_sympy"]


class Unsupported(Exception):
    """The expression has a part this layer does not handle: use SymPy."""


# -- SymPy -> SymEngine ------------------------------------------------------------------------

# Functions whose SymEngine derivative equals SymPy's (checked by tests/performance).
_SMOOTH_FUNCTIONS: dict[type, Callable] = {
    sympy.exp: se.exp, sympy.log: se.log,
    sympy.sin: se.sin, sympy.cos: se.cos, sympy.tan: se.tan,
    sympy.sec: se.sec, sympy.csc: se.csc, sympy.cot: se.cot,
    sympy.asin: se.asin, sympy.acos: se.acos, sympy.atan: se.atan,
    sympy.sinh: se.sinh, sympy.cosh: se.cosh, sympy.tanh: se.tanh,
    sympy.asinh: se.asinh, sympy.atanh: se.atanh,
    sympy.erf: se.erf,
}
# The grammar's smooth functions of machine learning: opaque SymEngine functions of these
# names, differentiated by SymEngine into Subs(Derivative(f(_xi), _xi), _xi, u) nodes that
# to_sympy turns into the function's own fdiff (sigmoid(u)*(1 - sigmoid(u)), sigmoid(u)).
SMOOTH_CUSTOM: dict[str, type] = {"sigmoid": sigmoid, "softplus": softplus}
_SMOOTH_CUSTOM_FUNCTIONS: dict[type, Callable] = {
    cls: se.Function(name) for name, cls in SMOOTH_CUSTOM.items()}
# Functions compiled to NumPy but never differentiated here. The grammar's other functions
# (and Heaviside) become opaque SymEngine functions named for NUMERIC_NAMES below.
_NUMERIC_ONLY_FUNCTIONS: dict[type, Callable] = {
    sympy.acosh: se.acosh,
    sympy.Abs: se.Abs,
    sympy.sign: se.sign,
    sympy.Min: se.Min,
    sympy.Max: se.Max,
    relu: se.Function("relu"),
    cbrt: se.Function("cbrt"),
    erfc: se.Function("erfc"),  # only in compiled stable forms (engine._stable_forms)
    logtanh: se.Function("logtanh"),  # the same
}

_SIMPLE_ATOMS = {sympy.pi: se.pi, sympy.E: se.E}
# Functions with a branch cut or a restricted real domain.
_BRANCHING = {sympy.Pow, sympy.log, sympy.asin, sympy.acos, sympy.acosh, sympy.atanh}

# Conversions already made (results of differentiation are recorded here too, so that
# compiling a gradient does not convert it again). Bounded: least recently used go first.
_CONVERTED_ENTRIES = 8192
_converted: OrderedDict[tuple[bool, sympy.Basic], se.Basic] = OrderedDict()


def _remember(key, value) -> None:
    _converted[key] = value
    if len(_converted) > _CONVERTED_ENTRIES:
        _converted.popitem(last=False)


def to_symengine(expr: sympy.Expr, *, numeric: bool = False) -> se.Basic:
    """Convert a SymPy expression to SymEngine, node by node over a whitelist.

    With ``numeric`` the functions that are only compiled (abs, sign, min, max, heaviside,
    acosh and the custom functions) are admitted too. Raises :class:`Unsupported`.
    """
    key = (numeric, expr)
    try:
        found = _converted[key]
    except KeyError:
        pass
    else:
        _converted.move_to_end(key)
        return found
    if not numeric:  # an expression converted for differentiation serves compilation too
        value = _convert(expr, numeric)
    else:
        value = _converted.get((False, expr))
        if value is None:
            value = _convert(expr, numeric)
    _remember(key, value)
    return value


def _convert(expr: sympy.Expr, numeric: bool) -> se.Basic:
    done: dict[sympy.Basic, se.Basic] = {}
    stack = [expr]
    while stack:
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        pending = [arg for arg in node.args if arg not in done]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        done[node] = _convert_node(node, done, numeric)
    return done[expr]


def _convert_node(node, done, numeric: bool) -> se.Basic:
    kind = type(node)
    if node.is_Symbol:
        if node is not symbol(node.name):  # not one of the service's real symbols
            raise Unsupported(f"symbol {node!r} with other assumptions")
        return se.Symbol(node.name)
    if node.is_Integer:
        return se.Integer(int(node))
    if node.is_Rational:
        return se.Rational(int(node.p), int(node.q))
    if node.is_Float and numeric:  # a constant folded for compiled code (engine)
        number = float(node)
        if not math.isfinite(number):
            raise Unsupported("a float past the float64 range")
        return se.RealDouble(number)
    if node in _SIMPLE_ATOMS:
        return _SIMPLE_ATOMS[node]
    if (kind in _BRANCHING and node.args[0].is_number and not node.args[0].is_Rational
            and not (kind is sympy.Pow and node.exp.is_Integer)
            and not _in_real_domain(kind, node.args[0])):
        # a root or logarithm of a constant that may be negative (sqrt(tan(e))): SymPy may
        # have made the whole real (sec(i*a) = 1/cosh(a)) where floats would give NaN
        raise Unsupported(f"{node} of a constant other than a rational number")
    args = [done[a] for a in node.args]
    if kind is sympy.Add:
        return se.Add(*args)
    if kind is sympy.Mul:
        return se.Mul(*args)
    if kind is sympy.Pow:
        power = se.Pow(*args)
        # SymEngine rewrites some roots of powers and products, (1/x)^(1/2) as x^(-1/2),
        # which is not the principal root for x < 0: only a root it keeps as written is used.
        if not node.exp.is_Integer and not (type(power).__name__ == "Pow"
                                            and power.args[0] == args[0]):
            raise Unsupported(f"SymEngine rewrites the power {node}")
        return power
    function = _SMOOTH_FUNCTIONS.get(kind)
    if function is not None:
        value = function(*args)
        if function is not se.exp and (type(value) is not function
                                        or value.args[0] != args[0]):
            # SymEngine rewrote what SymPy keeps (-erf(1 - y) for erf(y - 1), log(2) -
            # log(3) for log(2/3)): its derivative would be written differently from
            # sympy.diff's (exp(-(1 - y)^2) for exp(-(y - 1)^2)), so keep it as written
            value = as_written(function, args[0])
            if value is None:
                raise Unsupported(f"SymEngine rewrites {node}")
        return value
    function = _SMOOTH_CUSTOM_FUNCTIONS.get(kind)
    if function is not None:
        return function(*args)
    if numeric:
        if kind is sympy.Heaviside:  # args (x, 1/2): the grammar's heaviside(0) = 1/2
            if len(node.args) != 2 or node.args[1] != sympy.S.Half:
                raise Unsupported("Heaviside with another value at 0")
            return _HEAVISIDE(args[0])
        function = _NUMERIC_ONLY_FUNCTIONS.get(kind)
        if function is not None:
            return function(*args)
    raise Unsupported(f"{kind.__name__} is not handled by SymEngine here")


_HEAVISIDE = se.Function("heaviside")

# How far inside the real domain a constant must be, at 30 digits, to be taken as inside.
_DOMAIN_MARGIN = 1e-12


def _in_real_domain(kind: type, constant: sympy.Expr) -> bool:
    """Whether a constant other than a rational is surely inside the real domain of the
    root, logarithm or inverse function ``kind`` (1/sqrt(pi), log(cosh(1)), asin(1/e)):
    there both engines write the same real number. Such constants used to send the whole
    derivative to sympy.diff, whose form differs from SymEngine's (-(-cot(x)^2 - 1) for
    cot(x)^2 + 1) and so from the express lane's.

    A bounded function of a real constant is inside by its range, where no margin could
    tell: erf(7) is 1 - 4.2e-23, and acos(erf(7)) is 9.1e-12."""
    if _inside_by_range(kind, constant):
        return True
    try:
        value = complex(constant.evalf(30))
    except (ArithmeticError, TypeError, ValueError):
        return False
    if value.imag != 0 or not math.isfinite(value.real):
        return False
    v = value.real
    if kind is sympy.Pow or kind is sympy.log:
        return v > _DOMAIN_MARGIN
    if kind is sympy.acosh:
        return v > 1 + _DOMAIN_MARGIN
    return abs(v) < 1 - _DOMAIN_MARGIN  # asin, acos, atanh


# Ranges of functions of a real argument: (-1, 1), [-1, 1], (0, 1), (0, oo), [1, oo).
_OPEN_UNIT = (sympy.erf, sympy.tanh)
_CLOSED_UNIT = (sympy.sin, sympy.cos)
_POSITIVE = (sigmoid, softplus, sympy.exp, sympy.cosh)


def _inside_by_range(kind: type, constant: sympy.Expr) -> bool:
    """Whether ``constant``, g(u) or -g(u) for a real constant u, is inside the real domain
    of ``kind`` by g's range alone."""
    negated = constant.is_Mul and len(constant.args) == 2 and constant.args[0] == -1
    g = constant.args[1] if negated else constant
    if not (isinstance(g, sympy.Function) or g.is_Pow and g.base is sympy.E):
        return False
    try:
        if g.args[-1].is_extended_real is not True:
            return False
    except (AttributeError, ArithmeticError, TypeError, ValueError):  # SymPy's own bugs
        return False
    unit = isinstance(g, _OPEN_UNIT) or isinstance(g, sigmoid)  # inside (-1, 1)
    if kind is sympy.atanh:
        return unit
    if kind is sympy.asin or kind is sympy.acos:
        return unit or isinstance(g, _CLOSED_UNIT)
    if negated:
        return False
    if kind is sympy.acosh:
        return isinstance(g, sympy.cosh)
    return isinstance(g, _POSITIVE) or g.is_Pow  # roots and logarithms: E**u as exp


# -- unevaluated function nodes -----------------------------------------------------------------
# SymEngine's constructors evaluate, and some differently from SymPy: sin(x - 1) becomes
# -sin(1 - x) (SymEngine looks at the constant term, SymPy counts the signs), log(2/3)
# becomes log(2) - log(3). Its Python API has no unevaluated constructor, but its
# deserializer makes nodes as they are stored: f(a) is made from a's serialization behind
# f's header. The layout is derived from f(t) and t below and checked once; if it does not
# hold (another SymEngine), such nodes are not made.

def _function_codes() -> dict:
    from symengine.lib.symengine_wrapper import load_basic

    t = se.Symbol("t")
    inner = t.__reduce__()[1][0]
    codes = {}
    for f in set(_SMOOTH_FUNCTIONS.values()) - {se.exp}:  # exp(u) is E**u in both
        data = f(t).__reduce__()[1][0]
        head = data[:len(data) - len(inner) + 5]
        if data[:5] != inner[:5] or data[5:] != head[5:] + inner[5:] or head[13:14] != b"\x01":
            return {}
        codes[f] = head[14:]
    probe = se.Integer(-1) + t
    for f, code in codes.items():
        node = load_basic(_unevaluated_head(inner[:5]) + code + probe.__reduce__()[1][0][5:])
        if type(node) is not f or node.args[0] != probe:
            return {}
    return codes


def _unevaluated_head(header: bytes) -> bytes:
    """The stream's header and a new node's id (odd: never the address of a live object)."""
    return header + b"\xff" * 8 + b"\x01"


def as_written(f, a) -> se.Basic | None:
    """The SymEngine node ``f(a)`` exactly as written, unevaluated (None where it cannot be
    made: another SymEngine's layout)."""
    code = _CODES.get(f)
    if code is None:
        return None
    data = a.__reduce__()[1][0]
    node = _load_basic(_unevaluated_head(data[:5]) + code + data[5:])
    return node if type(node) is f else None


try:
    from symengine.lib.symengine_wrapper import load_basic as _load_basic

    _CODES = _function_codes()
except Exception:  # noqa: BLE001 - any other layout: no unevaluated nodes
    _CODES = {}


# -- SymEngine -> SymPy ------------------------------------------------------------------------

_BACK_FUNCTIONS = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "sec": sympy.sec, "csc": sympy.csc,
    "cot": sympy.cot, "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "asinh": sympy.asinh, "atanh": sympy.atanh, "log": sympy.log, "erf": sympy.erf,
}


# Nodes converted back, shared between calls: the second partials of a Hessian share large
# parts (the same sum in every entry), built once with SymPy's (slow) constructors.
_BACK_ENTRIES = 50_000
_converted_back: dict[se.Basic, sympy.Expr] = {}


def to_sympy(expr: se.Basic) -> sympy.Expr:
    """Convert a SymEngine result back with SymPy's constructors (and our real symbols)."""
    done = _converted_back
    if len(done) > _BACK_ENTRIES:
        done.clear()
    stack = [expr]
    while stack:
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        pending = [arg for arg in _parts(node) if arg not in done]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        done[node] = _back_node(node, done)
    return done[expr]


def _parts(node: se.Basic) -> tuple:
    """The arguments converted before ``node``: of a function's derivative only the
    function's argument (never SymEngine's dummy variable)."""
    t = type(node)
    if t is _SUBS or t is _DERIVATIVE:
        return derivative_of_custom(node)[1:]
    return node.args


_SUBS, _DERIVATIVE, FUNCTION_SYMBOL = se.Subs, se.Derivative, se.FunctionSymbol


def derivative_of_custom(node: se.Basic) -> tuple[str, se.Basic]:
    """(name, u) for SymEngine's derivative of a SMOOTH_CUSTOM function f at u:
    ``Subs(Derivative(f(v), v), v, u)``, or ``Derivative(f(u), u)`` for a symbol u.
    Raises :class:`Unsupported` for any other derivative node."""
    if type(node) is _SUBS:
        derivative, variable, u = node.args
    else:
        derivative, variable, u = node, None, None
    if type(derivative) is _DERIVATIVE:
        args = derivative.args
        if len(args) == 2:
            function, wrt = args
            if (type(function) is FUNCTION_SYMBOL and function.get_name() in SMOOTH_CUSTOM
                    and function.args == (wrt,) and (variable is None or variable == wrt)):
                return function.get_name(), (wrt if u is None else u)
    raise Unsupported("a derivative SymEngine left unevaluated")


# sigmoid(u) and softplus(u) with SymEngine's builtins, for numeric evaluation
_BUILTIN_FORMS: dict[str, Callable] = {
    "sigmoid": lambda u: 1 / (1 + se.exp(-u)),
    "softplus": lambda u: se.log(1 + se.exp(u)),
}


def numeric_form(expr: se.Basic) -> se.Basic:
    """``expr`` with each SMOOTH_CUSTOM call written with SymEngine's builtins, which it
    can evaluate (``float``, ``n``). For values SymEngine could not evaluate as they are:
    it raises RuntimeError on these calls. Without recursion (trees may nest deeply)."""
    calls, stack, seen = [], [(expr, False)], set()
    while stack:  # post-order: the calls inside a call come before it
        node, expanded = stack.pop()
        if expanded:
            if type(node) is FUNCTION_SYMBOL:
                calls.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((arg, False) for arg in node.args)
    replaced: dict[se.Basic, se.Basic] = {}
    for call in calls:
        form = _BUILTIN_FORMS.get(call.get_name())
        if form is None:
            raise Unsupported(f"{call.get_name()} is not evaluated here")
        replaced[call] = form(call.args[0].xreplace(replaced) if replaced else call.args[0])
    return expr.xreplace(replaced) if replaced else expr


def evaluated(evaluate: Callable, expr: se.Basic):
    """``evaluate(expr)`` (``float``, ``complex``, ``n``), through :func:`numeric_form` when
    SymEngine cannot evaluate sigmoid or softplus (it raises RuntimeError on them): other
    expressions pay nothing for it."""
    try:
        return evaluate(expr)
    except RuntimeError:
        return evaluate(numeric_form(expr))


def _back_node(node: se.Basic, done) -> sympy.Expr:
    if node.is_Symbol:
        return symbol(node.name)
    if node.is_Integer:
        return sympy.Integer(int(node))
    if node.is_Rational:
        p, q = node.get_num_den()
        return sympy.Rational(int(p), int(q))
    if node == se.pi:
        return sympy.pi
    if node == se.E:
        return sympy.E
    if type(node) is _SUBS or type(node) is _DERIVATIVE:  # f'(u) as sympy.diff writes it
        name, u = derivative_of_custom(node)
        return SMOOTH_CUSTOM[name](done[u]).fdiff()
    args = [done[a] for a in node.args]
    kind = type(node).__name__
    if kind == "Add":
        return sympy.Add(*args)
    if kind == "Mul":
        return sympy.Mul(*args)
    if kind == "Pow":
        return sympy.Pow(*args)  # Pow(E, u) evaluates to exp(u), as sympy.diff writes it
    function = _BACK_FUNCTIONS.get(kind)
    if function is not None:
        return function(*args)
    if kind == "FunctionSymbol" and node.get_name() in SMOOTH_CUSTOM:
        return SMOOTH_CUSTOM[node.get_name()](*args)
    raise Unsupported(f"SymEngine produced {kind}, which is not converted back")


# -- differentiation ---------------------------------------------------------------------------

def differentiate(expr: sympy.Expr, variable: sympy.Symbol) -> sympy.Expr:
    """d expr / d variable, computed by SymEngine; the SymPy expression sympy.diff gives."""
    converted = to_symengine(expr)
    if variable is not symbol(variable.name):
        raise Unsupported(f"variable {variable!r} with other assumptions")
    result = converted.diff(se.Symbol(variable.name))
    back = to_sympy(result)
    # Kept for compiling only: differentiated again, SymEngine's own form of the result
    # (-sinh(4 - tanh(y)) for SymPy's sinh(tanh(y) - 4)) would give another form of the
    # next derivative than SymPy's form converted afresh, which the express lane mirrors,
    # and the SymPy path's text would depend on what this cache holds. f'(u) nodes: never.
    if not result.atoms(_SUBS, _DERIVATIVE):
        _remember((True, back), result)
    return back


# -- compilation to NumPy ----------------------------------------------------------------------

# How SymEngine function names are written in the generated code (``_np`` is NumPy,
# ``_fn_<name>`` the service's NUMERIC_FUNCTIONS). The same NumPy calls as sympy.lambdify.
NUMERIC_NAMES = {
    "sin": "_np.sin", "cos": "_np.cos", "tan": "_np.tan", "asin": "_np.arcsin",
    "acos": "_np.arccos", "atan": "_np.arctan", "sinh": "_np.sinh", "cosh": "_np.cosh",
    "tanh": "_np.tanh", "asinh": "_np.arcsinh", "acosh": "_np.arccosh",
    "atanh": "_np.arctanh", "log": "_np.log", "Abs": "abs", "sign": "_np.sign",
    "erf": "_fn_erf", "erfc": "_fn_erfc", "sigmoid": "_fn_sigmoid",
    "softplus": "_fn_softplus", "relu": "_fn_relu", "cbrt": "_fn_cbrt",
    "logtanh": "_fn_logtanh",
}
_RECIPROCAL_NAMES = {"sec": "_np.cos", "csc": "_np.sin", "cot": "_np.tan"}
_NAMESPACE = {"_np": np, **{f"_fn_{name}": fn for name, fn in NUMERIC_FUNCTIONS.items()}}


def _flatten(exprs, flat: list) -> object:
    """Flatten nested lists of expressions; return the shape (an int index or nested lists)."""
    if isinstance(exprs, (list, tuple)):
        return [_flatten(item, flat) for item in exprs]
    flat.append(exprs)
    return len(flat) - 1


def _as_expr(value) -> sympy.Expr:
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, int):
        return sympy.Integer(value)
    raise Unsupported(f"{type(value).__name__} entry")


def _shape_source(shape, names: list[str]) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_source(item, names) for item in shape) + "]"
    return names[shape]


def compile_numeric(exprs, symbols: Sequence[sympy.Symbol]) -> Callable:
    """Compile ``exprs`` (an expression or nested lists) into one NumPy function of ``symbols``.

    Behaves as ``sympy.lambdify(symbols, exprs, modules=[NUMERIC_FUNCTIONS, "numpy"],
    cse=True, dummify=True)``. Raises :class:`Unsupported` for what it does not handle.
    """
    flat: list = []
    shape = _flatten(exprs, flat)
    converted = [to_symengine(_as_expr(e), numeric=True) for e in flat]
    arguments = {}
    for i, s in enumerate(symbols):
        if s is not symbol(s.name):
            raise Unsupported(f"argument {s!r} with other assumptions")
        arguments[s.name] = f"_a{i}"
    replacements, reduced = se.cse(converted)
    writer = _CodeWriter(arguments)
    lines = [f"def _compiled({', '.join(arguments.values())}):"]
    for name, value in replacements:
        code = writer.write(value)
        writer.names[name] = f"_c{len(writer.names)}"
        lines.append(f"    {writer.names[name]} = {code}")
    results = [writer.write(value) for value in reduced]
    lines.append(f"    return {_shape_source(shape, results)}")
    source = "\n".join(lines)
    namespace = dict(_NAMESPACE)
    try:
        code = compile(source, "<gradient-service compiled expression>", "exec")
    except (SyntaxError, RecursionError, MemoryError):  # "too many nested parentheses"
        raise Unsupported("nested too deeply for Python's compiler") from None
    exec(code, namespace)  # noqa: S102 - our own generated code, no user text
    function = namespace["_compiled"]
    function.__doc__ = source
    return function


class _CodeWriter:
    """Write a SymEngine expression as NumPy source code (arguments dummified as _a0...)."""

    def __init__(self, arguments: dict[str, str]):
        self.arguments = arguments
        self.names: dict[se.Basic, str] = {}  # CSE symbols -> local names

    def write(self, node: se.Basic) -> str:
        try:
            return self._write(node)
        except RecursionError:
            raise Unsupported("nested too deeply to compile here") from None

    def _number(self, value) -> str:
        try:
            number = float(value)
        except OverflowError:
            raise Unsupported("a number too large for a float64") from None
        if not np.isfinite(number):
            raise Unsupported("a number too large for a float64")
        return repr(number) if number >= 0 else f"({number!r})"

    def _write(self, node: se.Basic) -> str:
        if node.is_Symbol:
            name = self.names.get(node) or self.arguments.get(node.name)
            if name is None:
                raise Unsupported(f"free symbol {node} is not an argument")
            return name
        if node.is_Number:
            # a float: a constant folded for compiled code (engine._fold_constants)
            if not node.is_Rational and type(node) is not se.RealDouble:
                raise Unsupported("a complex number")
            return self._number(node)
        if node == se.pi:
            return repr(float(np.pi))
        if node == se.E:
            return repr(float(np.e))
        kind = type(node).__name__
        args = node.args
        if kind == "Add":
            return "(" + " + ".join(self._write(a) for a in args) + ")"
        if kind == "Mul":
            return "(" + "*".join(self._write(a) for a in args) + ")"
        if kind == "Pow":
            base, exponent = args
            if base == se.E:
                return f"_np.exp({self._write(exponent)})"
            if exponent.is_Integer:
                e = int(exponent)
                if e < 0:
                    return f"({self._write(base)})**({float(e)!r})"
                return f"({self._write(base)})**{e}"
            if exponent == se.Rational(1, 2):
                return f"_np.sqrt({self._write(base)})"
            if exponent.is_Rational:
                p, q = exponent.get_num_den()
                return f"({self._write(base)})**({int(p)}/{int(q)})"
            return f"({self._write(base)})**({self._write(exponent)})"
        written = [self._write(a) for a in args]
        if kind in ("Min", "Max"):
            pairwise = "_np.minimum" if kind == "Min" else "_np.maximum"
            code = written[0]
            for other in written[1:]:
                code = f"{pairwise}({code}, {other})"
            return code
        if kind == "FunctionSymbol":
            kind = node.get_name()
            if kind == "heaviside":  # as lambdify writes it (NumPy's heaviside is real-only)
                u = written[0]
                return (f"_np.select([_np.less({u}, 0), _np.equal({u}, 0), True], "
                        "[0, 1/2, 1], default=_np.nan)")
        if kind in _RECIPROCAL_NAMES:
            return f"(1/{_RECIPROCAL_NAMES[kind]}({written[0]}))"
        name = NUMERIC_NAMES.get(kind)
        if name is None:
            raise Unsupported(f"{kind} has no NumPy form here")
        return f"{name}({', '.join(written)})"
