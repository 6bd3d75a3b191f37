"""Accuracy fuzz of the compiled float64 values over ``points``, for a number of seconds.

    python fuzz/points_accuracy.py [seed] [seconds]

The values over ``points`` come from compiled NumPy code (stable forms of the logistic
functions, common subexpressions; descent and pictures use the same code). Random smooth
expressions (tests/performance/fast_corpus.py's grammar and bench/express.py's ML losses)
are sent as gradient requests over random float points; each value and partial is compared
with SymPy's evaluation, at 50 digits, of the same expression (the service's parse of the
function and of each returned partial) at the exact binary value of the point.

A value is judged only where it is well conditioned: the reference at the point moved by
two float64 ulps in each coordinate stays within 1e-10 of it. Findings: a value more than
1e-8 (relative) off; a null where the reference is a finite real float64; a number where
the reference is not real. The first three of each kind are printed, then the counts.
The reference itself can be wrong where SymPy's evalf cannot see a loss of precision: it
takes softplus(-401) (log(1 + e^-401), 1e-174) for 0 even in strict mode, so check a
finding against mpmath at high precision before fixing it.
"""
import collections
import importlib.util
import math
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "bench"))
spec = importlib.util.spec_from_file_location("corpus", ROOT / "tests/performance/fast_corpus.py")
corpus = importlib.util.module_from_spec(spec); spec.loader.exec_module(corpus)
import sympy  # noqa: E402
from sympy.core.evalf import PrecisionExhausted  # noqa: E402

import express as bx  # noqa: E402
from service.calculus import operations  # noqa: E402
from service.config import Limits  # noqa: E402
from service.errors import ServiceError  # noqa: E402
from service.expressions import parse  # noqa: E402

LIMITS = Limits()
DIGITS = 50
ULP = 2.0**-52


class Slow(BaseException):  # not an Exception: never caught as an error
    pass


def alarm(*_):
    raise Slow()


def reference(expr, symbols, point) -> complex | None:
    """expr at the exact binary value of ``point``, to DIGITS digits (None: no number, or
    SymPy could not be sure of them). ``strict`` and a high ``maxn``: by default evalf
    works in at most 100 digits and returns what it has, so log(1 - sigmoid(541.58)) came
    out -388.16 (1 - sigmoid(u) is e^-u, 235 digits below 1)."""
    values = {s: sympy.Rational(v) for s, v in zip(symbols, point)}
    try:
        return complex(expr.evalf(DIGITS, subs=values, maxn=4000, strict=True))
    except (TypeError, ValueError, ArithmeticError, PrecisionExhausted):
        return None


def real_throughout(expr, symbols, point) -> bool:
    """Whether every part of ``expr`` is a finite real at the point: the compiled code
    works in real float64, so where a part is complex (log(z) at z < 0, even inside
    tanh(log(z))^2, which is real) a null is the service's answer, not a finding."""
    for part in sympy.preorder_traversal(expr):
        if part.args and part.free_symbols:
            value = reference(part, symbols, point)
            if value is None or value.imag != 0 or not math.isfinite(value.real):
                return False
    return True


def conditioned(expr, symbols, point, want: complex, rng) -> bool:
    """Whether two ulps in every coordinate move the value by at most 1e-10 of it."""
    for _ in range(2):
        moved = [v * (1 + 2 * ULP * rng.choice((-1, 1))) if v else v for v in point]
        got = reference(expr, symbols, moved)
        try:
            if got is None or abs(got - want) > 1e-10 * max(abs(want), 1e-300):
                return False
        except OverflowError:
            return False
    return True


def judge(got, want: complex | None, real_parts: bool) -> str | None:
    real = want is not None and want.imag == 0
    finite = real and math.isfinite(want.real) and abs(want.real) < 1.7e308
    if got is None:
        return ("null where the value is a finite real"
                if finite and real_parts and abs(want.real) > 1e-290 else None)
    if not finite:
        return "a number where the value is not a finite real" if want is not None else None
    if abs(got - want.real) > 1e-8 * abs(want.real) + 1e-300:
        return "off by more than 1e-8"
    return None


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    deadline = time.time() + (float(sys.argv[2]) if len(sys.argv) > 2 else 60)
    rng = random.Random(seed)
    signal.signal(signal.SIGALRM, alarm)
    findings, judged, requests, slow = collections.Counter(), 0, 0, 0
    while time.time() < deadline:
        if rng.random() < 0.6:
            text, names = corpus.random_text(rng, rng.randint(2, 4)), ["x", "y", "z"]
        else:
            r = bx.ml_requests(1, rng.randrange(10**9))[0]
            text, names = r["expression"], r["variables"]
        points = [[rng.choice([rng.uniform(-3, 3), rng.uniform(-40, 40), 0.5, -1.25])
                   for _ in names] for _ in range(4)]
        signal.alarm(10)
        try:
            answer = operations.gradient(LIMITS, expression=text, variables=names,
                                         points=points)
            parts = [parse(text, LIMITS, variables=names).expr] + [
                parse(g["expression"], Limits(max_expression_length=10**6,
                                              max_expression_nodes=10**6),
                      variables=names).expr for g in answer["gradient"]]
            symbols = [sympy.Symbol(n, real=True) for n in names]
            parts = [p.xreplace({s: t for s in p.free_symbols for t in symbols
                                 if s.name == t.name}) for p in parts]
            values, gradient = answer["batch"]["values"], answer["batch"]["gradient"]
            for row, point in enumerate(points):
                got_row = [values[row], *gradient[row]]
                for index, (expr, got) in enumerate(zip(parts, got_row)):
                    want = reference(expr, symbols, point)
                    if want is not None and not conditioned(expr, symbols, point, want, rng):
                        continue
                    judged += 1
                    got = None if got is None or not math.isfinite(got) else float(got)
                    kind = judge(got, want, got is not None
                                 or real_throughout(parts[0], symbols, point))
                    if kind:
                        findings[kind] += 1
                        if findings[kind] <= 3:
                            print("FINDING", kind, {"expression": text, "variables": names,
                                  "point": point}, "entry", index, "got", got, "want", want,
                                  flush=True)
        except Slow:
            slow += 1
            continue
        except ServiceError:
            pass
        finally:
            signal.alarm(0)
        requests += 1
    print(f"seed {seed}: {requests} requests, {judged} values judged, findings "
          f"{dict(findings)}, {slow} slow skipped")


if __name__ == "__main__":
    main()
