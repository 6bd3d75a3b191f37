"""Time each stage of a novel gradient, SymPy alone against SymPy with SymEngine, in one run.

Stages: parse (our parser, SymPy objects), differentiate, text and LaTeX rendering, compile
(NumPy function), evaluate at an exact point. Each round uses new expressions (2 variables,
the shape bench/run.py sends), so no cache answers; the stage caches are cleared.

Run: ``python bench/engine.py`` from the project root.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.calculus import cache, engine  # noqa: E402
from service.calculus.evaluation import evaluate_at  # noqa: E402
from service.calculus.spec import build_point, build_spec  # noqa: E402
from service.config import Limits  # noqa: E402
from service.expressions import printer, to_latex, to_text  # noqa: E402

ROUNDS = 60


def novel(rng: random.Random, i: int) -> str:
    a, b, c = rng.randint(2, 9), rng.randint(2, 9), rng.randint(1, 99)
    return f"sin({a}*x)*exp(y/{b}) + x^{a}*y - log(1 + x^2 + y^2)/{c} + {i}*x*y"


def stages(fast_engine: bool, seed: int) -> dict[str, float]:
    engine.FAST_ENGINE = fast_engine and engine.fast is not None
    limits = Limits()
    rng = random.Random(seed)
    totals: dict[str, float] = {}

    def tick(name, started):
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - started
        return time.perf_counter()

    for i in range(ROUNDS):
        cache.STAGES.clear()
        printer._printed.clear()
        t = time.perf_counter()
        spec = build_spec([novel(rng, i)], limits)
        t = tick("parse", t)
        partials = engine.gradient(spec.expressions[0], spec.variable_symbols)
        t = tick("differentiate", t)
        for d in partials:
            to_text(d.expr)
        t = tick("text", t)
        for d in partials:
            to_latex(d.expr)
        t = tick("latex", t)
        function = engine.compile_numeric([spec.expressions[0]] + [d.expr for d in partials],
                                          spec.symbols)
        t = tick("compile", t)
        items = [("value", spec.expressions[0])] + [(f"g{k}", d) for k, d in enumerate(partials)]
        point = build_point({"x": 1, "y": 2}, spec, limits)
        evaluate_at(items, function, spec.symbols, point, max_digits=1000, owners=[None, 0, 0])
        tick("evaluate at an exact point", t)
    return {name: seconds / ROUNDS * 1e3 for name, seconds in totals.items()}


def main() -> None:
    seed = random.randrange(10**6)
    stages(True, seed + 1)  # warm imports
    slow = stages(False, seed)
    fast = stages(True, seed + 2)  # other expressions than the SymPy run, as a client would
    engine.FAST_ENGINE = engine.fast is not None
    print(f"novel 2-variable gradient, mean ms per request over {ROUNDS} new expressions")
    print(f"{'stage':<28} {'SymPy':>8} {'+SymEngine':>10} {'speed-up':>8}")
    for name in slow:
        print(f"{name:<28} {slow[name]:>8.3f} {fast[name]:>10.3f} {slow[name] / fast[name]:>8.1f}")
    total_slow, total_fast = sum(slow.values()), sum(fast.values())
    print(f"{'total':<28} {total_slow:>8.3f} {total_fast:>10.3f} {total_slow / total_fast:>8.1f}")


if __name__ == "__main__":
    main()
