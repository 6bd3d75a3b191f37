"""Answers to exact repeats, kept in the web worker.

Every calculus request is a pure function of its body, so a body seen before gets the same
answer without validation, a trip to the computation process or encoding: the cost of an
exact repeat is that of the HTTP stack. Only small bodies (the key is the body itself),
only successful answers (a 422 for running out of time may not recur), and not the
pictures of /v1/plot (large, and they depend on the Accept header).
"""

from __future__ import annotations

from collections import OrderedDict

from flask import Flask, Response, g, request

from service.observability.metrics import record_cache_lookup

MAX_ENTRIES = 1024
LARGEST_BODY = 16 * 1024
LARGEST_ANSWER = 256 * 1024
# Bodies and answers held at most, in bytes: the web worker has no memory cap, and 1,024
# answers of 256 KiB would be 256 MiB per worker (a 400-byte Hessian request can have one).
MAX_BYTES = 32 * 1024 * 1024
UNCACHED_PATHS = frozenset({"/v1/plot"})


class AnswerCache:
    """An LRU map of (path, body) -> (status, content type, bytes), bounded in entries and
    in the bytes of the bodies and answers it holds."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._answers: OrderedDict[tuple[str, bytes], tuple[int, str, bytes]] = OrderedDict()

    def get(self, key):
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key, answer) -> None:
        if key in self._answers:
            self.bytes -= _size(key, self._answers.pop(key))
        self._answers[key] = answer
        self.bytes += _size(key, answer)
        while len(self._answers) > self.max_entries or self.bytes > self.max_bytes:
            old_key, old_answer = self._answers.popitem(last=False)
            self.bytes -= _size(old_key, old_answer)


def _size(key: tuple[str, bytes], answer: tuple[int, str, bytes]) -> int:
    return len(key[1]) + len(answer[2])


def _key() -> tuple[str, bytes] | None:
    if request.method != "POST" or not request.path.startswith("/v1/"):
        return None
    if request.path in UNCACHED_PATHS:
        return None
    length = request.content_length
    if length is None or length > LARGEST_BODY:
        return None
    return (request.path, request.get_data(cache=True))


def register_answer_cache(app: Flask) -> None:
    """Serve exact repeats of POST bodies from memory (register after the request hooks)."""
    cache = AnswerCache()

    @app.before_request
    def answer_from_memory():
        key = _key()
        if key is None:
            return None
        answer = cache.get(key)
        record_cache_lookup("answer", hit=answer is not None)
        if answer is None:
            g.answer_key = key
            return None
        status, content_type, data = answer
        return Response(data, status=status, content_type=content_type)

    @app.after_request
    def remember_answer(response: Response) -> Response:
        key = g.pop("answer_key", None)
        if key is not None and response.status_code == 200 and not response.is_streamed:
            data = response.get_data()
            if len(data) <= LARGEST_ANSWER:
                cache.put(key, (response.status_code, response.content_type, data))
        return response
