"""The stage cache of a computation process, and the answer cache of a web worker."""

from __future__ import annotations

import pytest

from service.calculus.cache import StageCache, freeze
from service.calculus.spec import build_spec
from service.config import Limits


def test_hit_returns_the_kept_value_and_builds_once():
    cache = StageCache(max_entries=10)
    calls = []
    build = lambda: calls.append(1) or object()  # noqa: E731
    first = cache.get("parse", "k", build)
    assert cache.get("parse", "k", build) is first
    assert len(calls) == 1
    assert cache.get("render", "k", build) is not first  # stages do not mix


def test_least_recently_used_entries_go_first():
    cache = StageCache(max_entries=2)
    cache.get("s", 1, lambda: "one")
    cache.get("s", 2, lambda: "two")
    cache.get("s", 1, lambda: "again")  # touch 1
    cache.get("s", 3, lambda: "three")  # evicts 2
    assert cache.get("s", 1, lambda: "rebuilt") == "one"
    assert cache.get("s", 2, lambda: "rebuilt") == "rebuilt"


def test_memory_bound_drops_the_older_half():
    cache = StageCache(max_entries=1000, max_megabytes=0)  # any process is over 0 MiB
    for i in range(32):
        cache.get("s", i, lambda: i)
    assert len(cache) == 16


def test_errors_are_not_kept_and_unhashable_keys_are_computed():
    cache = StageCache()
    with pytest.raises(ValueError):
        cache.get("s", "bad", lambda: (_ for _ in ()).throw(ValueError("no")))
    assert cache.get("s", "bad", lambda: "fine") == "fine"
    assert cache.get("s", ["unhashable"], lambda: "computed") == "computed"


def test_freeze_normalizes_key_order_and_keeps_number_types_apart():
    assert freeze({"b": 1, "a": [1, 2]}) == freeze({"a": [1, 2], "b": 1})
    assert freeze({"x": 1}) != freeze({"x": 1.5})


def test_parsed_specs_are_shared_between_equal_requests():
    limits = Limits()
    a = build_spec(["x^2 + y"], limits, constants={"y": 2})
    b = build_spec(["x^2 + y"], limits, constants={"y": 2})
    assert a is b
    assert build_spec(["x^2 + y"], limits, constants={"y": 3}) is not a


def test_the_express_lane_keeps_to_the_configured_entries():
    """GRADIENT_CACHE_ENTRIES bounds the cache when only the express lane answers (as it
    does for every small request in a web worker), not only once the SymPy path ran."""
    from service.calculus import cache, operations

    small = Limits(cache_entries=5)
    try:
        cache.STAGES.clear()
        for i in range(1, 8):
            assert operations.small_gradient(small, expression=f"{i}*x^2*y + sin(y)")
        assert len(cache.STAGES) == 5
    finally:
        cache.STAGES.configure(Limits().cache_entries, Limits().cache_megabytes)
