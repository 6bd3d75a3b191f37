"""Time the service's descent loop against hand-written loops of the same optimizer.

Both sides call the same ``sympy.lambdify``-compiled functions, so the ratio is the cost of
the service's machinery (optimizer registry, finiteness checks, stopping test, trace).
The hand loops are the fastest plain Python a careful engineer would write: Python floats
unrolled over the 2 parameters for Rosenbrock, vectorized NumPy for least squares. Each
pair is run in two modes: a decimated trace against a loop that records nothing, and a
trace of every iteration against a loop that records (iteration, point, value, gradient,
norm) at every iteration. Tolerance 0, so every run makes all its iterations.

Run: ``python bench/descent.py`` (from the project root). Target: every ratio <= 2.
"""

from __future__ import annotations

import math
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

from service.optimize import DataObjective, ScalarObjective, descend  # noqa: E402

REPEATS = 9


def best_times(*runs, repeats=REPEATS) -> list[float]:
    """Best wall time of each run over ``repeats`` rounds, the runs interleaved in each
    round so that a slow spell of the machine hits both sides alike."""
    best = [math.inf] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            t0 = time.perf_counter()
            run()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


# -- Rosenbrock, 2 parameters, full batch ----------------------------------------------------

def rosenbrock():
    x, y = sp.symbols("x y")
    f = (1 - x) ** 2 + 100 * (y - x ** 2) ** 2
    value = sp.lambdify([x, y], f)
    gradient = sp.lambdify([x, y], [f.diff(x), f.diff(y)])
    return value, gradient


def hand_gd(value, gradient, start, lr, iterations, tolerance, record):
    x, y = start
    trace = []
    for k in range(iterations + 1):
        gx, gy = gradient(x, y)
        norm = math.hypot(gx, gy)
        if record:
            trace.append((k, [x, y], value(x, y), [gx, gy], norm))
        if norm < tolerance or k == iterations:
            break
        x -= lr * gx
        y -= lr * gy
    return x, y, trace


def hand_adam(value, gradient, start, lr, iterations, tolerance, record,
              b1=0.9, b2=0.999, eps=1e-8):
    x, y = start
    mx = my = vx = vy = 0.0
    trace = []
    for k in range(iterations + 1):
        gx, gy = gradient(x, y)
        norm = math.hypot(gx, gy)
        if record:
            trace.append((k, [x, y], value(x, y), [gx, gy], norm))
        if norm < tolerance or k == iterations:
            break
        t = k + 1
        mx = b1 * mx + (1 - b1) * gx
        my = b1 * my + (1 - b1) * gy
        vx = b2 * vx + (1 - b2) * gx * gx
        vy = b2 * vy + (1 - b2) * gy * gy
        step = lr / (1 - b1 ** t)
        bc2 = math.sqrt(1 - b2 ** t)
        x -= step * (mx / (math.sqrt(vx) / bc2 + eps))
        y -= step * (my / (math.sqrt(vy) / bc2 + eps))
    return x, y, trace


# -- least squares, 100,000 rows x 2 parameters ----------------------------------------------

def least_squares(rows=100_000, seed=0):
    w, b, x, y = sp.symbols("w b x y")
    loss = (w * x + b - y) ** 2
    value = sp.lambdify([w, b, x, y], loss)
    gradient = sp.lambdify([w, b, x, y], [loss.diff(w), loss.diff(b)])
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-1, 1, rows)
    ys = 2.0 * xs + 1.0 + 0.1 * rng.standard_normal(rows)
    return value, gradient, xs, ys


def hand_least_squares(value, gradient, xs, ys, lr, iterations, tolerance, record):
    w = b = 0.0
    trace = []
    for k in range(iterations + 1):
        gw, gb = gradient(w, b, xs, ys)
        gw, gb = float(gw.mean()), float(gb.mean())
        norm = math.hypot(gw, gb)
        if record:
            trace.append((k, [w, b], float(value(w, b, xs, ys).mean()), [gw, gb], norm))
        if norm < tolerance or k == iterations:
            break
        w -= lr * gw
        b -= lr * gb
    return w, b, trace


def main():
    rows = []

    value, gradient = rosenbrock()
    objective = ScalarObjective(value, gradient)
    n = 10_000
    for name, lr, hand in (("gd", 1e-4, hand_gd), ("adam", 1e-3, hand_adam)):
        for record_every, record in ((1000, False), (1, True)):
            service, manual = best_times(
                lambda: descend(objective, [-1.2, 1.0], optimizer=name, learning_rate=lr,
                                max_iterations=n, tolerance=0.0, record_every=record_every,
                                max_trace_entries=n + 1),
                lambda: hand(value, gradient, (-1.2, 1.0), lr, n, 0.0, record))
            rows.append((f"rosenbrock {name}, record_every={record_every}", n, service, manual))

    value, gradient, xs, ys = least_squares()
    objective = DataObjective(value, gradient, None, {"x": xs, "y": ys})
    n = 200
    for record_every, record in ((100, False), (1, True)):
        service, manual = best_times(
            lambda: descend(objective, [0.0, 0.0], optimizer="gd", learning_rate=0.1,
                            max_iterations=n, tolerance=0.0, record_every=record_every),
            lambda: hand_least_squares(value, gradient, xs, ys, 0.1, n, 0.0, record))
        rows.append((f"least squares 100,000 x 2 gd, record_every={record_every}", n,
                     service, manual))

    width = max(len(r[0]) for r in rows)
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, SymPy {sp.__version__}; "
          f"best of {REPEATS} interleaved runs")
    print(f"{'case':<{width}}  {'iters':>6}  {'service us/it':>13}  {'hand us/it':>10}  "
          f"{'ratio':>5}")
    worst = 0.0
    for case, iterations, service, manual in rows:
        ratio = service / manual
        worst = max(worst, ratio)
        print(f"{case:<{width}}  {iterations:>6}  {service / iterations * 1e6:>13.2f}  "
              f"{manual / iterations * 1e6:>10.2f}  {ratio:>5.2f}")
    print(f"worst ratio {worst:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
