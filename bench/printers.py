"""Time the text printer of a gradient: SymPy's (service.expressions.to_text) against
fast_text (from the SymEngine tree), cold (every memo cleared) and warm.

Each round takes a new expression in w, x, y, z (4 partials, sums of products of powers
and smooth functions), differentiates it in SymEngine and prints its 4 partial
derivatives; both printers' texts are checked equal. "fast cold" is the first printing of
fresh trees right after SymPy's printer ran; "fast cold again" the best of 5 more with the
memos cleared (the same trees: the CPU's caches and SymEngine's hashes warm). Print only.

Run: ``python bench/printers.py`` from the project root.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symengine as se  # noqa: E402

from service.calculus import fast, fast_text  # noqa: E402
from service.calculus.spec import build_spec  # noqa: E402
from service.config import Limits  # noqa: E402
from service.expressions import printer, to_text  # noqa: E402

ROUNDS = 40
VARIABLES = ["w", "x", "y", "z"]


def novel(rng: random.Random, i: int) -> str:
    a, b, c, d = (rng.randint(2, 9) for _ in range(4))
    return (f"{a}*y^3*sin({b}*x - y/{c}) + {d + 10}*x^2*log(1 + x^2 + y^2)"
            f" + {c}*z^2*tanh(2*z - x/{a}) + {1234 + i}*x*w")


def gradient(text: str) -> list[se.Basic]:
    f = build_spec([text], Limits(), variables=VARIABLES).expressions[0]
    tree = fast.to_symengine(f)
    partials = []
    for name in VARIABLES:  # in SymPy's canonical form: through SymPy and back, afresh
        partial = fast.to_sympy(tree.diff(se.Symbol(name)))
        partials.append(fast._convert(partial, False))
    return partials


def clear_sympy_memos() -> None:
    printer._printed.clear()
    printer._free_names_of.clear()


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    rng = random.Random(7)
    rows: dict[str, list[float]] = {k: [] for k in ("sympy cold", "sympy warm", "fast cold",
                                                    "fast cold again", "fast warm")}
    for i in range(ROUNDS):
        partials = gradient(novel(rng, i))
        sympy_forms = [fast.to_sympy(p) for p in partials]
        clear_sympy_memos()
        def sympy_texts(forms=sympy_forms):
            return [to_text(p, VARIABLES) for p in forms]

        def fast_texts(trees=partials):
            return [fast_text.to_text(p, VARIABLES) for p in trees]

        rows["sympy cold"].append(timed(sympy_texts))
        rows["sympy warm"].append(timed(sympy_texts))
        fast_text.clear_memo()
        rows["fast cold"].append(timed(fast_texts))  # fresh trees, right after SymPy's
        rows["fast warm"].append(timed(fast_texts))
        again = []
        for _ in range(5):  # memos cleared again: the same trees, the CPU's caches warm
            fast_text.clear_memo()
            again.append(timed(fast_texts))
        rows["fast cold again"].append(min(again))
        assert ([fast_text.to_text(p, VARIABLES) for p in partials]
                == [to_text(p, VARIABLES) for p in sympy_forms])
    print(f"text of a 4-partial gradient, median of {ROUNDS} new expressions, e.g.")
    print(f"  f = {novel(random.Random(7), 0)}")
    for name, values in rows.items():
        print(f"  {name:15s} {statistics.median(values) * 1e3:8.3f} ms")
    speedup = statistics.median(rows["sympy cold"]) / statistics.median(rows["fast cold"])
    print(f"  cold speed-up: {speedup:.0f}x")


if __name__ == "__main__":
    main()
