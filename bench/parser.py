"""The safe parser against its tokenizer and a trivial baseline, in one process, side by side.

    python bench/parser.py

Novel expressions of ~80 characters (bench/express.py's novel_requests). Prints microseconds
per expression (best of several rounds) for parse_tree (tokenizing included), tokenize alone,
and re.findall(r"\\w+|\\S") over the same texts: the cost of merely scanning them once with a
regex. The trees themselves are checked by tests/expressions and tests/hardening.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.express import novel_requests  # noqa: E402
from service.config import Limits  # noqa: E402
from service.expressions.parser import parse_tree  # noqa: E402
from service.expressions.tokens import tokenize  # noqa: E402

LIMITS = Limits()
ROUNDS = 20


def per_expression(operation, texts: list[str]) -> float:
    """The best of ROUNDS passes over ``texts``, in microseconds per text."""
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for text in texts:
            operation(text)
        best = min(best, time.perf_counter() - started)
    return best / len(texts) * 1e6


def main() -> None:
    texts = [request["expression"] for request in novel_requests(500, seed=11)]
    words = re.compile(r"\w+|\S")
    rows = [
        ("parse_tree", per_expression(lambda text: parse_tree(text, LIMITS), texts)),
        ("tokenize", per_expression(tokenize, texts)),
        ("re.findall baseline", per_expression(words.findall, texts)),
    ]
    print(f"{len(texts)} expressions, {sum(map(len, texts)) / len(texts):.0f} characters on average")
    baseline = rows[-1][1]
    for label, micros in rows:
        print(f"  {label:<20} {micros:7.1f} us   {micros / baseline:5.1f}x baseline")


if __name__ == "__main__":
    main()
