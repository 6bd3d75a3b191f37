"""Fuzz of the SymPy path for errors other than the service's own, for a number of seconds.

    python fuzz/sympy_path_errors.py [seed] [seconds]

Random smooth expressions (tests/performance/fast_corpus.py's grammar and bench/express.py's
ML losses) as gradient, Hessian, Jacobian and derivative requests that the express lane
does not take (a constant ``c``, ``check``, ``points``), at random points. Any exception
that is not a ServiceError would be a 500: the first few are printed with their request,
then the counts. A request that takes more than 5 s is skipped.
"""
import collections
import importlib.util
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "bench"))
spec = importlib.util.spec_from_file_location("corpus", ROOT / "tests/performance/fast_corpus.py")
corpus = importlib.util.module_from_spec(spec); spec.loader.exec_module(corpus)
import express as bx  # noqa: E402
from service.calculus import operations  # noqa: E402
from service.config import Limits  # noqa: E402
from service.errors import ServiceError  # noqa: E402

LIMITS = Limits()
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
deadline = time.time() + (float(sys.argv[2]) if len(sys.argv) > 2 else 60)
rng = random.Random(seed)
class Slow(BaseException):  # noqa: E701 - not an Exception: never caught as an error
    pass
def alarm(*_):  # noqa: E302
    raise Slow()
signal.signal(signal.SIGALRM, alarm)
errors, n, slow = collections.Counter(), 0, 0
while time.time() < deadline:
    if rng.random() < 0.6:
        text = corpus.random_text(rng, rng.randint(2, 4)); names = ["x", "y", "z"]
    else:
        r = bx.ml_requests(1, rng.randrange(10**9))[0]; text, names = r["expression"], r["variables"]
    point = {v: rng.choice([-2, -1, 0, 1, 2, 3, 5, 0.5, -1.5]) for v in names}
    rows = [[rng.choice([-1, 0, 0.5, 2]) for _ in names] for _ in range(3)]
    c = {"c": 1}
    op, req = rng.choice([
        (operations.gradient, dict(expression=text + " + c", variables=names, constants=c, point=point)),
        (operations.gradient, dict(expression=text, variables=names, point=point, check=True)),
        (operations.gradient, dict(expression=text, variables=names, points=rows)),
        (operations.hessian, dict(expression=text + " + c", variables=names, constants=c, point=point)),
        (operations.jacobian, dict(expressions=[text, "c*x"], variables=names, constants=c, point=point)),
        (operations.derivative, dict(expression=text + " + c", variable=names[0], constants=c,
                                     order=rng.randint(1, 3), point=point)),
    ])
    signal.alarm(5)
    try:
        op(LIMITS, **req)
    except Slow:
        slow += 1; continue
    except ServiceError:
        pass
    except Exception as error:  # noqa: BLE001 - what this fuzz looks for
        kind = type(error).__name__; errors[kind] += 1
        if errors[kind] <= 3: print("ERROR", kind, error, op.__name__, req, flush=True)
    finally:
        signal.alarm(0)
    n += 1
print(f"seed {seed}: {n} requests, errors {dict(errors)}, {slow} slow skipped")
