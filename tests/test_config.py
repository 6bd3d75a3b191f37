"""Settings from the environment, and README's limits table kept in step with them."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from service.config import Limits, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_defaults_are_api_md_limits():
    limits = Settings.from_env({}).limits
    assert limits.max_body_bytes == 10 * 1024 * 1024
    assert limits.max_expression_length == 10_000
    assert limits.max_nesting_depth == 200
    assert limits.max_variables == 100 and limits.max_expressions == 100
    assert limits.max_derivative_order == 50
    assert limits.max_exponent == 10_000 and limits.max_integer_digits == 100
    assert limits.max_points == 100_000 and limits.max_iterations == 100_000
    assert limits.max_trace_entries == 10_000 and limits.max_data_rows == 100_000
    assert limits.time_budget_seconds == 10.0


def test_environment_overrides():
    settings = Settings.from_env({"GRADIENT_MAX_VARIABLES": "7",
                                  "GRADIENT_TIME_BUDGET_SECONDS": "2.5",
                                  "GRADIENT_ISOLATION": "inline"})
    assert settings.limits.max_variables == 7
    assert settings.limits.time_budget_seconds == 2.5
    assert settings.isolated is False


@pytest.mark.parametrize("raw, isolated, small_in_worker", [
    ("", True, True), ("process", True, True), ("strict", True, False),
    (" Inline ", False, False),
])
def test_isolation_modes(raw, isolated, small_in_worker):
    settings = Settings.from_env({"GRADIENT_ISOLATION": raw})
    assert (settings.isolated, settings.small_in_worker) == (isolated, small_in_worker)


def test_an_unknown_isolation_mode_fails_loudly():
    with pytest.raises(ValueError, match="GRADIENT_ISOLATION='threads' is not one of process"):
        Settings.from_env({"GRADIENT_ISOLATION": "threads"})


@pytest.mark.parametrize("raw", ["abc", "-1", "0"])
def test_bad_values_fail_loudly(raw):
    with pytest.raises(ValueError, match="GRADIENT_MAX_POINTS"):
        Settings.from_env({"GRADIENT_MAX_POINTS": raw})


@pytest.mark.parametrize("name", [f.name for f in fields(Limits)])
def test_readme_documents_every_limit(name):
    default = getattr(Limits(), name)
    shown = f"{default:,}" if isinstance(default, int) else f"{default:g}"
    assert f"| `{Limits.env_var(name)}` | {shown} |" in README
