"""Long campaigns of tests/hardening/test_fuzz.py's JSON-body fuzz, every endpoint (not CI).

    python fuzz/endpoints_fuzz.py [seed] [seconds] [path ...]

The CI suite runs each endpoint's fuzz on a fixed, short set of bodies (derandomized, 60
examples). This runs the same strategies with fresh random bodies, and bodies that mostly
pass validation (so that the learning, plot and descent computations run), round after
round, on an app with the hardening suite's 2 s time budget, until the time is up. Every
answer must keep the contract: no 500, strict JSON (no NaN or Infinity) in a problem+json
for a 4xx, an image for a 200 from /v1/plot, and /healthz right after. A failure is shrunk
by hypothesis and printed with its body; the campaign goes on with the next round and
prints the count at the end. NumPy's ComplexWarning is an error here: a complex number
whose real part is taken (a silent wrong answer) is a 500 too, which is how descent's
complex values were found (set before the app forks its computation process, so that
process inherits it).
"""

from __future__ import annotations

import collections
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "hardening"))

from hypothesis import HealthCheck, given, seed as hypothesis_seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from numpy.exceptions import ComplexWarning  # noqa: E402

import test_fuzz  # noqa: E402
from service.app import create_app  # noqa: E402
from service.config import Limits, Settings  # noqa: E402

# Bodies that mostly get past validation, so that the computations run: smooth-looking
# expressions in x and y (the grammar's functions, non-smooth ones included), points over
# exactly those names, small pictures.
_FUNCTIONS = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "softplus",
              "abs", "relu", "erf", "atan", "acosh", "cbrt", "sign"]
_leaf = st.sampled_from(["x", "y", "x", "y", "2", "3", "0.5", "1/3", "pi", "e", "10"])
expression = st.recursive(_leaf, lambda parts: st.one_of(
    st.builds(lambda f, a: f"{f}({a})", st.sampled_from(_FUNCTIONS), parts),
    st.builds(lambda a, op, b: f"({a}){op}({b})", parts, st.sampled_from("+-*/^"), parts),
    st.builds(lambda a: f"-({a})", parts)), max_leaves=6)
coordinate = st.one_of(st.integers(-4, 4), st.floats(-4, 4, allow_nan=False),
                       st.sampled_from(["1/2", "pi/4", "-1", "sqrt(2)", "e"]))
xy_point = st.fixed_dictionaries({"x": coordinate, "y": coordinate})
interval = st.lists(st.floats(-10, 10, allow_nan=False), min_size=2, max_size=2)
picture = {"format": st.sampled_from(["svg", "png"]), "grid": st.integers(8, 40),
           "dpi": st.integers(20, 80)}
optimizer = st.sampled_from(["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam",
                             "newton"])
VALID_BODIES = {
    "/v1/taylor": st.fixed_dictionaries(
        {"expression": expression, "variables": st.just(["x", "y"]), "point": xy_point,
         "order": st.integers(1, 2)}),
    "/v1/directional-derivative": st.fixed_dictionaries(
        {"expression": expression, "variables": st.just(["x", "y"]), "point": xy_point,
         "direction": xy_point},
        optional={"normalize": st.booleans()}),
    "/v1/plot": st.one_of(
        st.fixed_dictionaries(
            {"kind": st.just("function"), "expression": expression, "variable": st.just("x"),
             "constants": st.fixed_dictionaries({"y": coordinate})},
            optional={"range": interval, "point": coordinate, "tangent": st.booleans(),
                      "derivatives": st.sampled_from([[1], [2], [1, 2]]), **picture}),
        st.fixed_dictionaries(
            {"kind": st.just("contour"), "expression": expression,
             "variables": st.just(["x", "y"])},
            optional={"range": st.fixed_dictionaries({"x": interval, "y": interval}),
                      "critical_points": st.booleans(), "gradient_field": st.booleans(),
                      **picture}),
        st.fixed_dictionaries(
            {"kind": st.just("descent"), "expression": expression, "start": xy_point,
             "variables": st.just(["x", "y"])},
            optional={"optimizer": optimizer, "optimizers": st.lists(optimizer, min_size=1,
                                                                     max_size=3),
                      "learning_rate": st.floats(1e-4, 2), "max_iterations": st.integers(0, 200),
                      "loss_panel": st.booleans(), **picture})),
    "/v1/gradient-descent": st.fixed_dictionaries(
        {"expression": expression, "start": xy_point, "variables": st.just(["x", "y"])},
        optional={"optimizer": optimizer, "learning_rate": st.floats(1e-4, 2),
                  "max_iterations": st.integers(0, 500), "record_every": st.integers(1, 20)}),
}

ROUND = settings(max_examples=200, derandomize=False, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck), print_blob=False)


def main() -> None:
    warnings.simplefilter("error", ComplexWarning)
    first_seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 300
    kinds = [(path, "any", strategy) for path, strategy in test_fuzz.BODIES.items()]
    kinds += [(path, "valid", strategy) for path, strategy in VALID_BODIES.items()]
    wanted = sys.argv[3:]
    kinds = [kind for kind in kinds if not wanted or kind[0] in wanted]
    app = create_app(Settings(limits=Limits(time_budget_seconds=2)))
    app.config["TESTING"] = True
    client = app.test_client()
    deadline = time.monotonic() + seconds
    rounds = failures = bodies = 0
    statuses: collections.Counter = collections.Counter()
    while time.monotonic() < deadline:
        path, label, strategy = kinds[rounds % len(kinds)]
        counted = [0]

        @hypothesis_seed(first_seed * 100_003 + rounds)
        @ROUND
        @given(strategy)
        def one_round(body):
            counted[0] += 1
            statuses[path, label, test_fuzz.fuzz_endpoint(client, path, body)] += 1

        try:
            one_round()
        except Exception:  # noqa: BLE001 - a finding: print it and go on
            failures += 1
            print(f"--- {path} ({label} bodies), round {rounds}:", flush=True)
            traceback.print_exc(limit=3)
        bodies += counted[0]
        rounds += 1
    print(f"{rounds} rounds, {bodies} bodies, {failures} failing rounds")
    for (path, label, status), count in sorted(statuses.items()):
        print(f"  {path} ({label} bodies) {status}: {count}")


if __name__ == "__main__":
    main()
