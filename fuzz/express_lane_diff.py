"""Differential fuzz of the express lane against the SymPy path, for a number of seconds.

    python fuzz/express_lane_diff.py [seed] [seconds]

Random smooth expressions (tests/performance/fast_corpus.py's grammar and bench/express.py's
novel requests and ML losses) as gradient, Hessian, derivative and Jacobian requests at random integer points, each
answered with the lane on and off (tests/calculus/test_express_lane.py's ``answer`` and
``assert_same``); prints the first three mismatches of each kind and the counts. A request that takes more
than 5 s on either path is skipped.
"""
import importlib.util
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "bench"))
def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
lane = load(ROOT / 'tests/calculus/test_express_lane.py', 'lane')
corpus = load(ROOT / 'tests/performance/fast_corpus.py', 'corpus')
import express as bx
from service.calculus import operations
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
deadline = time.time() + (float(sys.argv[2]) if len(sys.argv) > 2 else 60)
rng = random.Random(seed)
class Slow(BaseException):  # not caught by answer(), which turns errors into answers
    pass
def alarm(*a): raise Slow()
signal.signal(signal.SIGALRM, alarm)
n = fails = slow = 0
kinds = {}  # mismatches by the path that differs, without indices (at/eigenvalues, ...)
while time.time() < deadline:
    draw = rng.random()
    if draw < 0.45:
        text = corpus.random_text(rng, rng.randint(2, 4)); names = sorted({v for v in "xyz" if v in text}) or ["x"]
    else:
        requests = bx.novel_requests if draw < 0.8 else bx.ml_requests
        r = requests(1, rng.randrange(10**9))[0]; text, names = r["expression"], r["variables"]
    point = {v: rng.choice([-2, -1, 0, 1, 2, 3, 5]) for v in names}
    op, req = rng.choice([(operations.gradient, dict(expression=text, variables=names, point=point)),
                          (operations.gradient, dict(expression=text, variables=names)),
                          (operations.hessian, dict(expression=text, variables=names, point=point)),
                          (operations.derivative, dict(expression=text, variable=names[0], order=rng.randint(1, 3), point=point)),
                          (operations.jacobian, dict(expressions=[text, f"{names[0]}*{names[-1]} - 1"], variables=names, point=point))])
    signal.alarm(5)
    try:
        got = lane.answer(op, True, **req); want = lane.answer(op, False, **req)
        signal.alarm(0)
    except Slow:
        slow += 1; continue
    n += 1
    try:
        lane.assert_same(got, want)
    except AssertionError as e:
        fails += 1
        path = e.args[0][0] if e.args and isinstance(e.args[0], tuple) else "?"
        kind = "/".join(part for part in str(path).split("/")[1:] if not part.isdigit())
        kinds[kind] = kinds.get(kind, 0) + 1
        if kinds[kind] <= 3: print("MISMATCH", op.__name__, req, "\n  ", str(e)[:600], flush=True)
print(f"seed {seed}: {n} compared, {fails} mismatches ({kinds}), {slow} slow skipped")
