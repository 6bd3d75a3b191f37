"""A request that would allocate too much gets a clean 4xx; the service carries on.

The computation process has an address-space cap (``GRADIENT_MAX_MEMORY_MB``): past it an
allocation fails with MemoryError inside that process, which becomes a 422 problem, and
the web worker, which holds no more than the request and the answer, is untouched.
README's "Limits and security" records what the defaults allow.
"""

from __future__ import annotations

from hardening_support import check_answer, check_healthy, post_json

from service.app import create_app
from service.compute import _address_space
from service.config import Limits, Settings

# Room above what the computation process maps when it starts (a fork of this process,
# which by now holds the whole test session): enough for small computations.
HEADROOM_MB = 400


def test_an_allocation_past_the_memory_cap_is_a_422_and_the_service_carries_on(hard_client):
    # The batch limit allows it here, so the table of values is allocated: 10,000 points x
    # 10,101 entries (the value, 100 partials and 10,000 second partials) = 808 MB.
    cap = (_address_space() >> 20) + HEADROOM_MB
    limits = Limits(time_budget_seconds=30, max_memory_mb=cap, max_batch_values=10**9)
    client = create_app(Settings(limits=limits)).test_client()
    body = {"expression": "+".join(f"x{i}^2" for i in range(100)),
            "points": [[1] * 100] * 10_000}
    problem = check_answer(post_json(client, "/v1/hessian", body), allowed={422})
    assert problem["type"].endswith(":computation-failed"), problem
    assert "GRADIENT_MAX_MEMORY_MB" in problem["detail"]
    check_healthy(client)  # in a new computation process
    check_healthy(hard_client)


def test_a_cap_with_no_room_left_gives_clean_422s_not_500s(hard_client):
    """A cap below what the process maps already (an operator's mistake) makes allocations
    fail anywhere, even in the parser: each failure is a 422, never a 500."""
    cap = (_address_space() >> 20) // 2
    client = create_app(Settings(limits=Limits(max_memory_mb=cap))).test_client()
    for k in range(3):
        body = {"expression": "+".join(f"sin(x{i} + {k})" for i in range(50)),
                "points": [[0.5] * 50] * 2_000}
        response = post_json(client, "/v1/gradient", body)
        check_answer(response, allowed={200, 422})
    check_healthy(hard_client)


def test_at_the_default_limits_the_same_request_is_refused_before_any_work(hard_client):
    body = {"expression": "+".join(f"x{i}^2" for i in range(100)),
            "points": [[1] * 100] * 10_000}
    problem = check_answer(post_json(hard_client, "/v1/hessian", body), allowed={422})
    assert "GRADIENT_MAX_BATCH_VALUES" in problem["detail"]


def test_the_web_workers_answer_cache_is_bounded_in_bytes():
    """The web worker has no memory cap: the answers it keeps for exact repeats are bounded
    in bytes as well as in number (small requests can have large answers)."""
    from service.api.answers import LARGEST_ANSWER, MAX_BYTES, AnswerCache

    cache = AnswerCache()
    for k in range(1024):
        cache.put(("/v1/hessian", b"%d" % k), (200, "application/json", b" " * LARGEST_ANSWER))
        assert cache.bytes <= MAX_BYTES
    assert cache.get(("/v1/hessian", b"1023")) is not None
    assert cache.get(("/v1/hessian", b"0")) is None
