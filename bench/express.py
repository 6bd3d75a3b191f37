"""The express lane against the SymPy path, in one process, side by side.

    python bench/express.py [--stages]

Novel 2-4 variable gradients at a point (the kind bench/run.py sends: every expression
new, so no cache helps), novel gradients of machine learning's losses (sigmoid, softplus)
and a dense Hessian, each answered by the express lane
(SymEngine, service.calculus.express) and by the SymPy path (the lane switched off).
Prints milliseconds per request and the ratio. The lane's answers are checked equal to
the SymPy path's by tests/calculus/test_express_lane.py; here only time is measured.

With ``--stages``: where the lane's time goes for a novel gradient at a point answered as a
web worker answers a small request (``operations.small_gradient``, the computing collector
thresholds set): each stage's function is wrapped in a timer, and the rest is the lane's
glue (its caches, the point, the answer's assembly).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.calculus import cache, express, fast_exact, fast_latex, fast_text  # noqa: E402
from service.calculus import operations  # noqa: E402
from service.compute import COMPUTING_GC_THRESHOLDS  # noqa: E402
from service.config import Limits  # noqa: E402

LIMITS = Limits()
UNARY = ["sin", "cos", "exp", "tanh", "atan", "sqrt", "log"]


def novel_requests(count: int, seed: int) -> list[dict]:
    """Requests like bench/run.py's LUA_NOVEL: three random terms and a counter term."""
    rng = random.Random(seed)

    def term(names):
        a, b, f = rng.choice(names), rng.choice(names), rng.choice(UNARY)
        inner = (f"1 + {a}^2 + {b}^2" if f in ("log", "sqrt")
                 else f"{rng.randint(1, 9)}*{a} - {b}/{rng.randint(2, 9)}")
        return f"{rng.randint(1, 20)}*{b}^{rng.randint(1, 4)}*{f}({inner})"

    requests = []
    for i in range(count):
        names = ["x", "y", "z", "w"][:rng.randint(2, 4)]
        text = " + ".join(term(names) for _ in range(3)) + f" + {i + seed}*{names[0]}*{names[-1]}"
        requests.append({"expression": text, "variables": names,
                         "point": {n: rng.randint(1, 3) for n in names}})
    return requests


# Machine learning's losses of one example (x, y) in the weights w, b: logistic (with
# sigmoid, and as softplus with an L2 term) and a sigmoid unit's squared error
ML_LOSSES = [
    "-y*log(sigmoid({a}*w*x + b)) - (1 - y)*log(1 - sigmoid({a}*w*x + b)) + {i}*w*b",
    "softplus(-y*({a}*w*x + b)) + {i}*w^2/{c}",
    "(sigmoid({a}*w*x + b) - y)^2 + {i}*b*x",
]


def ml_requests(count: int, seed: int) -> list[dict]:
    """Novel gradients of ML_LOSSES at integer points (y a label, 0 or 1)."""
    rng = random.Random(seed)
    requests = []
    for i in range(count):
        text = rng.choice(ML_LOSSES).format(a=rng.randint(1, 9), c=rng.randint(2, 9),
                                            i=i + seed)
        point = {"b": rng.randint(-2, 2), "w": rng.randint(-3, 3), "x": rng.randint(1, 3),
                 "y": rng.randint(0, 1)}
        requests.append({"expression": text, "variables": ["w", "b", "x", "y"],
                         "point": point})
    return requests


def dense_hessian(n: int, salt: int) -> dict:
    names = [f"x{i}" for i in range(1, n + 1)]
    squares = " + ".join(f"{(i * 7 + salt) % 5 + 1}*{v}^2" for i, v in enumerate(names))
    text = f"log(1 + {squares}) + exp(({' + '.join(names)})/{salt + 2})"
    return {"expression": text, "variables": names,
            "point": {v: round(0.1 + 0.01 * i, 2) for i, v in enumerate(names)}}


def per_request(operation, requests: list[dict], lane: bool) -> float:
    express.ENABLED = lane
    cache.STAGES.clear()
    started = time.perf_counter()
    for request in requests:
        operation(LIMITS, **request)
    return (time.perf_counter() - started) / len(requests)


# (label, module, function): the lane's stages, timed where the lane calls them
STAGES = [
    ("parse (syntax tree)", express, "parse_tree"),
    ("build (SymEngine, SymPy's form)", fast_exact, "build"),
    ("divisor check", express, "_divides_by_a_constant"),
    ("differentiate + SymPy's form", express, "_differentiate"),
    ("LaTeX of the partials", fast_latex, "to_latex"),
    ("exact values at the point", fast_exact, "value_at"),
    ("float64 of the exact values", fast_exact, "float_value"),
]


def stages(count: int = 2000) -> None:
    """Print each stage's milliseconds per request, and its share of the whole."""
    gc.set_threshold(*COMPUTING_GC_THRESHOLDS)
    spent: dict[str, float] = {}

    def timed(label, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
        return wrapper

    originals = [(module, name, getattr(module, name)) for _, module, name in STAGES]
    for (label, module, name), (_, _, function) in zip(STAGES, originals):
        setattr(module, name, timed(label, function))
    to_text = fast_text.to_text
    values_text = timed("text of the exact values", to_text)
    partials_text = timed("text of the partials", to_text)

    def text(expr, *args, plain_numbers: bool = False, **kwargs):  # two stages in one
        timed_text = values_text if plain_numbers else partials_text
        return timed_text(expr, *args, plain_numbers=plain_numbers, **kwargs)

    fast_text.to_text = text
    try:
        for request in novel_requests(100, seed=1):  # warm: imports, first-call costs
            operations.small_gradient(LIMITS, **request)
        spent.clear()
        requests = novel_requests(count, seed=5)
        started = time.perf_counter()
        answered = sum(operations.small_gradient(LIMITS, **r) is not None for r in requests)
        total = (time.perf_counter() - started) / count
    finally:
        for module, name, function in originals:
            setattr(module, name, function)
        fast_text.to_text = to_text
    print(f"novel 2-4 variable gradient at a point, {count} requests ({answered} answered "
          f"by the lane): {total * 1e3:.3f} ms each")
    print(f"{'stage':<36} {'ms':>7} {'share':>6}")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"{label:<36} {seconds / count * 1e3:>7.3f} {seconds / count / total:>6.0%}")
    rest = total - sum(spent.values()) / count
    print(f"{'the rest (glue, caches, the point)':<36} {rest * 1e3:>7.3f} {rest / total:>6.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", action="store_true",
                        help="where the lane's time goes, stage by stage")
    if parser.parse_args().stages:
        stages()
        return
    warm = novel_requests(30, seed=1)
    per_request(operations.gradient, warm, True)
    per_request(operations.gradient, warm, False)
    rows = []
    for round_ in range(3):
        requests = novel_requests(200, seed=1000 * (round_ + 2))
        slow = per_request(operations.gradient, requests[:50], False)
        fast = per_request(operations.gradient, requests[50:], True)
        rows.append(("novel 2-4 variable gradient at a point", fast, slow))
        requests = ml_requests(200, seed=1000 * (round_ + 2))
        slow = per_request(operations.gradient, requests[:50], False)
        fast = per_request(operations.gradient, requests[50:], True)
        rows.append(("novel ML loss gradient at a point", fast, slow))
    for salt in (3, 4):
        request = [dense_hessian(50, salt)]
        fast = per_request(operations.hessian, request, True)
        slow = per_request(operations.hessian, [dense_hessian(50, salt + 10)], False)
        rows.append(("dense 50-variable Hessian at a point, cold", fast, slow))
    print(f"{'case':<44} {'express ms':>11} {'SymPy ms':>10} {'speed-up':>9}")
    for name, fast, slow in rows:
        print(f"{name:<44} {fast * 1e3:>11.2f} {slow * 1e3:>10.2f} {slow / fast:>8.1f}x")
    express.ENABLED = True


if __name__ == "__main__":
    main()
