"""Time the SymEngine-native exact path (service.calculus.fast_exact) against the SymPy path.

Stages, per never-seen expression of 4 variables: build (syntax tree -> canonical SymEngine),
differentiate (SymEngine's ``diff`` of ``symengine_form``), canonical (each partial in
SymPy's form), value_at (the function and its partials at an exact point), float_value.
The SymPy path's stages are timed on the same expressions for comparison: build_spec,
fast.differentiate (SymEngine behind SymPy objects) and engine.substitute. The memos of
both paths are cleared between rounds, so every round is a first sight. Prints only.

Run: ``python bench/fast_exact.py`` from the project root.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symengine as se  # noqa: E402
import sympy  # noqa: E402

from service.calculus import cache, engine, fast, fast_exact, fast_order  # noqa: E402
from service.calculus.spec import build_spec  # noqa: E402
from service.config import Limits  # noqa: E402
from service.expressions import symbol  # noqa: E402
from service.expressions.parser import parse_tree  # noqa: E402

ROUNDS = 200
REPEATS = 3  # the best of: other processes share the machine
NAMES = ("x", "y", "z", "w")
POINT = {"x": 3, "y": 1, "z": 2, "w": 1}


def novel(rng: random.Random) -> str:
    a, b, c, d = (rng.randint(2, 9) for _ in range(4))
    return (f"{a}*y^3*sin({b}*x - y/5) + 12*x^2*log(1 + x^2 + y^2) "
            f"+ {c}*z^2*tanh(2*z - x/{d}) + {rng.randint(100, 9999)}*x*w")


def clear() -> None:
    cache.STAGES.clear()
    fast._converted.clear()
    fast._converted_back.clear()
    fast_exact.clear_memo()
    fast_order.clear_memo()


def time_fast(text: str, limits: Limits, totals: dict) -> None:
    def tick(stage, started):
        now = time.perf_counter()
        totals.setdefault(stage, []).append(now - started)
        return now

    t = time.perf_counter()
    tree = parse_tree(text, limits)
    t = tick("parse_tree (shared)", t)
    f = fast_exact.build(tree, frozenset(NAMES), limits)
    t = tick("build", t)
    form = fast_exact.symengine_form(f)
    derivatives = [form.diff(se.Symbol(n)) for n in NAMES]
    t = tick("diff (4 partials)", t)
    partials = [fast_exact.canonical(d) for d in derivatives]
    t = tick("canonical (4 partials)", t)
    point = {se.Symbol(n): se.Integer(v) for n, v in POINT.items()}
    values = [fast_exact.value_at(e, point, limits) for e in [f, *partials]]
    t = tick("value_at (f + 4 partials)", t)
    [fast_exact.float_value(v) for v in values]
    tick("float_value (5 values)", t)


def time_sympy(text: str, limits: Limits, totals: dict) -> None:
    def tick(stage, started):
        now = time.perf_counter()
        totals.setdefault(stage, []).append(now - started)
        return now

    t = time.perf_counter()
    f = build_spec([text], limits, variables=list(NAMES)).expressions[0]
    t = tick("build_spec", t)
    partials = [fast.differentiate(f, symbol(n)) for n in NAMES]
    t = tick("fast.differentiate (4 partials)", t)
    point = {symbol(n): sympy.Integer(v) for n, v in POINT.items()}
    [engine.substitute(e, point, limits) for e in [f, *partials]]
    tick("engine.substitute (f + 4 partials)", t)


def main() -> None:
    limits = Limits()
    rng = random.Random(7)
    texts = [novel(rng) for _ in range(ROUNDS)]
    print(f"{ROUNDS} novel expressions like {texts[0]!r}, at {POINT}")
    for label, timer in (("fast_exact", time_fast), ("SymPy path", time_sympy)):
        best: dict[str, float] = {}
        for _ in range(REPEATS):
            totals: dict[str, list[float]] = {}
            for text in texts:
                clear()
                timer(text, limits, totals)
            for stage, samples in totals.items():
                best[stage] = min(best.get(stage, float("inf")), statistics.median(samples))
        print(f"\n{label}: median per expression (best of {REPEATS} runs)")
        for stage, median in best.items():
            print(f"  {stage:38} {median * 1e6:9.1f} us")
        print(f"  {'total':38} {sum(best.values()) * 1e6:9.1f} us")


if __name__ == "__main__":
    main()
