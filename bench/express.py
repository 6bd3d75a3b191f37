"""The express lane against the SymPy path, in one process, side by side.

    python bench/express.py

Novel 2-4 variable gradients at a point (the kind bench/run.py sends: every expression
new, so no cache helps) and a dense Hessian, each answered by the express lane
(SymEngine, service.calculus.express) and by the SymPy path (the lane switched off).
Prints milliseconds per request and the ratio. The lane's answers are checked equal to
the SymPy path's by tests/calculus/test_express_lane.py; here only time is measured.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.calculus import cache, express, operations  # noqa: E402
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


def main() -> None:
    warm = novel_requests(30, seed=1)
    per_request(operations.gradient, warm, True)
    per_request(operations.gradient, warm, False)
    rows = []
    for round_ in range(3):
        requests = novel_requests(200, seed=1000 * (round_ + 2))
        slow = per_request(operations.gradient, requests[:50], False)
        fast = per_request(operations.gradient, requests[50:], True)
        rows.append(("novel 2-4 variable gradient at a point", fast, slow))
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
