"""A request that would allocate too much gets a clean 4xx; the service carries on.

The computation process has an address-space cap (``GRADIENT_MAX_MEMORY_MB``): past it an
allocation fails with MemoryError inside that process, which becomes a 422 problem, and
the web worker, which holds no more than the request and the answer, is untouched.
README's "Limits and security" records what the defaults allow.
"""

from __future__ import annotations

from hardening_support import check_answer, check_healthy, post_json

from service.app import create_app
from service.config import Limits, Settings

CAP_MB = 600


def test_an_allocation_past_the_memory_cap_is_a_422_and_the_service_carries_on(hard_client):
    # The batch limit allows it here, so the table of values is allocated: 10,000 points x
    # 10,101 entries (the value, 100 partials and 10,000 second partials) = 808 MB.
    limits = Limits(time_budget_seconds=30, max_memory_mb=CAP_MB, max_batch_values=10**9)
    client = create_app(Settings(limits=limits)).test_client()
    body = {"expression": "+".join(f"x{i}^2" for i in range(100)),
            "points": [[1] * 100] * 10_000}
    problem = check_answer(post_json(client, "/v1/hessian", body), allowed={422})
    assert problem["type"].endswith(":computation-failed"), problem
    assert f"{CAP_MB:,} MiB" in problem["detail"]
    assert "GRADIENT_MAX_MEMORY_MB" in problem["detail"]
    check_healthy(client)
    check_healthy(hard_client)


def test_at_the_default_limits_the_same_request_is_refused_before_any_work(hard_client):
    body = {"expression": "+".join(f"x{i}^2" for i in range(100)),
            "points": [[1] * 100] * 10_000}
    problem = check_answer(post_json(hard_client, "/v1/hessian", body), allowed={422})
    assert "GRADIENT_MAX_BATCH_VALUES" in problem["detail"]
