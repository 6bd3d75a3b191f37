"""Time the LaTeX of a gradient: SymPy's printer against the SymEngine-native one.

The 4 partial derivatives of a novel expression in w, x, y, z (new coefficients each round,
so no cache holds them) are printed by ``service.expressions.to_latex`` (SymPy objects,
its memo of printed parts cleared) and by ``service.calculus.fast_latex.to_latex`` (SymEngine
trees): cold (its memo and fast_order's cleared), cold without the ordering (fast_order's
memo kept: the cost of printing alone) and warm (everything remembered). The texts are
checked equal. Print-only, no assertions.

Run: ``python bench/latex_printer.py`` from the project root.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.calculus import fast, fast_latex  # noqa: E402
from service.calculus.spec import build_spec  # noqa: E402
from service.config import Limits  # noqa: E402
from service.expressions import printer, to_latex  # noqa: E402

ROUNDS = 200


def novel(i: int) -> str:
    return (f"7*y^3*sin({3 + i % 5}*x - y/{5 + i % 7}) + 12*x^2*log(1 + x^2 + y^2) "
            f"+ 5*z^2*tanh(2*z - x/{3 + i % 4}) + {1234 + i}*x*w")


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    limits = Limits()
    times: dict[str, list[float]] = {"sympy": [], "cold": [], "no ordering": [], "warm": []}
    nodes = []
    for i in range(ROUNDS):
        spec = build_spec([novel(i)], limits)
        f = spec.expressions[0]
        partials = [fast.differentiate(f, v) for v in spec.variable_symbols]
        trees = [fast.to_symengine(d) for d in partials]

        printer._printed.clear()
        elapsed, want = timed(lambda: [to_latex(d) for d in partials])
        times["sympy"].append(elapsed)

        fast_latex.clear_memo()
        elapsed, got = timed(lambda: [fast_latex.to_latex(t) for t in trees])
        times["cold"].append(elapsed)
        assert got == want, (got, want)
        nodes.append(len(fast_latex._printed))

        fast_latex.clear_memo(orders=False)
        elapsed, _ = timed(lambda: [fast_latex.to_latex(t) for t in trees])
        times["no ordering"].append(elapsed)

        elapsed, _ = timed(lambda: [fast_latex.to_latex(t) for t in trees])
        times["warm"].append(elapsed)

    print(f"LaTeX of a 4-partial gradient, {ROUNDS} novel expressions like")
    print(f"  {novel(0)}")
    print(f"  ({statistics.mean(nodes):.0f} printed nodes per gradient; texts equal to SymPy's)")
    base = statistics.median(times["sympy"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:12s} median {median * 1e6:8.1f} us   min {min(values) * 1e6:8.1f} us"
              f"   x{base / median:7.1f} vs SymPy (medians)")


if __name__ == "__main__":
    main()
