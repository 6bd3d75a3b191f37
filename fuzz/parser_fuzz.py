"""atheris (libFuzzer) harness for the expression parser: a long campaign, not run by CI.

Each input is read as raw UTF-8 text (Unicode, junk included) or, when its first byte is
odd, as a sequence of the grammar's tokens (one per byte), so that coverage-guided mutation reaches deep into
the parser and the builder. For every input:

- ``parse`` returns an expression or raises one of the service's own errors (a syntax
  error carries a position inside the text); anything else is a crash;
- an expression it returns prints (``to_text``) as text that parses back, with the same
  variables, to the same function (equal as trees, after expansion, or numerically at
  three points), or is refused as unprintable, or is longer than a request may be (the
  length, node and nesting limits); it is read back with twice the number limits, as the
  parser's size estimates depend on how an expression is written;
- an input slower than ``-timeout`` seconds is reported by libFuzzer as a timeout: the
  parser's limits are meant to make every input cheap.

Run (from the project root, with atheris installed in the virtualenv):

    python fuzz/parser_fuzz.py -max_total_time=600 -timeout=10 -rss_limit_mb=4096 \\
        -artifact_prefix=/tmp/parser-fuzz- /tmp/parser-corpus fuzz/seeds

``/tmp/parser-corpus`` (created if missing) collects the inputs that found new coverage;
a crashing input is written to ``/tmp/parser-fuzz-crash-*`` and can be replayed with
``python fuzz/parser_fuzz.py /tmp/parser-fuzz-crash-...``.
"""

from __future__ import annotations

import cmath
import os
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sympy  # noqa: E402  (imported before instrumentation: SymPy itself is not the target)

with atheris.instrument_imports(include=["service"]):
    from service.compute import CHILD_RECURSION_LIMIT
    from service.config import Limits
    from service.errors import ExpressionError, LimitExceeded, ServiceError
    from service.expressions import UnprintableExpression, parse, to_text

LIMITS = Limits()
# Answers are read back with twice the number limits: the parser's size estimates depend on
# how an expression is written, so an answer near a limit may be refused as a request
# (a product of radicals is estimated by the sum of their radicands).
REREAD_LIMITS = Limits(max_integer_digits=2 * LIMITS.max_integer_digits,
                       max_number_digits=2 * LIMITS.max_number_digits,
                       max_exponent=2 * LIMITS.max_exponent)
# Limits on the size of the text: a printed answer (a derivative, long integers written for
# the parser) may be longer than a request may be; every other refusal is a finding.
SIZE_LIMITS = {Limits.env_var(name) for name in
               ("max_expression_length", "max_expression_nodes", "max_nesting_depth")}
TOKENS = [
    "0", "1", "2", "10", "2.5", ".5", "1.", "1e3", "1e-3", "1E+2", "007", "9" * 99,
    "123456789012345678901234567890", "0.000000001", "x", "y", "z", "e", "pi", "w1", "_",
    "lambda", "I", "xy", "sin(", "cos(", "tan(", "sec(", "csc(", "cot(", "asin(", "acos(",
    "atan(", "atan2(", "sinh(", "cosh(", "tanh(", "asinh(", "acosh(", "atanh(", "exp(",
    "log(", "ln(", "log2(", "log10(", "sqrt(", "cbrt(", "abs(", "sign(", "heaviside(",
    "min(", "max(", "erf(", "sigmoid(", "softplus(", "relu(", "sinn(", "f(", "+", "-", "*",
    "/", "^", "**", "(", ")", ",", " ", "[", "!", "=", "|", "'", ".", "×", "²", "−", "\x00",
    "\u200f", "𝐱", "__import__", "1e999999999", "E",
]


def _text(data: bytes) -> str:
    """The first byte picks the reading: even, the rest as UTF-8 text (the seeds in
    fuzz/seeds are a zero byte and an expression); odd, one token per byte."""
    if not data:
        return ""
    mode, rest = data[0], data[1:]
    if mode & 1:
        return "".join(TOKENS[byte % len(TOKENS)] for byte in rest[:300])
    return rest.decode("utf-8", errors="replace")


def _same_function(a, b) -> bool:
    if a == b or sympy.expand(a - b) == 0:
        return True
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    for point in ([0.3] * len(symbols), [1.7] * len(symbols),
                  [0.5 + i / 7 for i in range(len(symbols))]):
        values = dict(zip(symbols, point))
        x, y = complex(a.evalf(30, subs=values)), complex(b.evalf(30, subs=values))
        if cmath.isnan(x) and cmath.isnan(y):
            continue
        if not cmath.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def test_one_input(data: bytes) -> None:
    text = _text(data)
    try:
        parsed = parse(text, LIMITS)
    except ExpressionError as error:
        if not (isinstance(error.position, int) and 0 <= error.position <= len(text)):
            raise AssertionError(f"position {error.position!r} outside {text!r}") from error
        return
    except ServiceError:
        return
    names = sorted(parsed.names)
    try:
        printed = to_text(parsed.expr, names)
    except UnprintableExpression:
        return
    try:
        again = parse(printed, REREAD_LIMITS, variables=names).expr
    except LimitExceeded as error:
        if error.env_var in SIZE_LIMITS:  # an answer may be larger than a request may be
            return
        raise
    if not _same_function(again, parsed.expr):
        raise AssertionError(f"{text!r} printed as {printed!r}, which reads {again}, "
                             f"not {parsed.expr}")


def main() -> None:
    sys.setrecursionlimit(CHILD_RECURSION_LIMIT)  # as in the computation process
    for directory in sys.argv[1:]:
        if not directory.startswith("-") and not os.path.exists(directory):
            if not Path(directory).name.startswith("parser-fuzz-"):
                os.makedirs(directory, exist_ok=True)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
