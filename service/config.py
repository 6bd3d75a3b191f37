"""Settings and limits, read from environment variables in this one place.

Every limit of API.md has a default here and an environment variable that changes it.
Nothing is read at import time: ``Settings.from_env()`` is called by ``create_app``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Mapping

ENV_PREFIX = "GRADIENT_"


def _setting(default, meaning: str):
    return field(default=default, metadata={"meaning": meaning})


@dataclass(frozen=True)
class Limits:
    """Size and time limits; each field is set by ``GRADIENT_<FIELD NAME IN CAPITALS>``."""

    max_body_bytes: int = _setting(10 * 1024 * 1024, "largest request body, in bytes")
    max_expression_length: int = _setting(10_000, "longest expression, in characters")
    max_nesting_depth: int = _setting(200, "deepest nesting of parentheses, calls and operators")
    max_expression_nodes: int = _setting(10_000, "most operators, numbers and names in one expression")
    max_variables: int = _setting(100, "most variables in one request (and most constants, most `data` columns)")
    max_expressions: int = _setting(100, "most expressions in one Jacobian")
    max_derivative_order: int = _setting(50, "highest derivative order")
    max_integer_digits: int = _setting(100, "most digits of an integer literal (|n| < 10^digits)")
    max_exponent: int = _setting(10_000, "largest |n| of an integer exponent")
    max_number_digits: int = _setting(1_000, "most digits of an exact number computed or printed")
    max_points: int = _setting(100_000, "most entries in `points`")
    max_batch_values: int = _setting(5_000_000, "most values one evaluation over `points` computes (points x values per point)")
    max_iterations: int = _setting(100_000, "most gradient-descent iterations")
    max_trace_entries: int = _setting(10_000, "most trace entries returned")
    max_data_rows: int = _setting(100_000, "most rows of `data`")
    time_budget_seconds: float = _setting(10.0, "seconds of computation per request")
    max_memory_mb: int = _setting(2048, "address space of a computation process, in MiB")
    cache_entries: int = _setting(2048, "entries of the compiled-expression cache of each computation process and web worker")
    cache_megabytes: int = _setting(512, "resident memory past which that cache drops its older half, in MiB")
    max_plot_grid: int = _setting(1_000, "most samples per axis of a picture (`grid` of POST /v1/plot)")
    max_plot_inches: int = _setting(20, "largest width or height of a picture, in inches (`size`)")
    max_plot_dpi: int = _setting(300, "highest resolution of a picture, in dots per inch (`dpi`)")
    max_plot_paths: int = _setting(8, "most descent paths in one picture (`optimizers`)")

    @staticmethod
    def env_var(name: str) -> str:
        """The environment variable that sets the limit ``name``."""
        return ENV_PREFIX + name.upper()


#: GRADIENT_ISOLATION: where computations run (README "Configuration").
ISOLATION_MODES = ("process", "strict", "inline")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about the service."""

    limits: Limits = field(default_factory=Limits)
    log_level: str = "INFO"
    # Run computations in a supervised child process (the time budget needs it).
    isolated: bool = True
    # ... but answer small requests in the web worker (service.compute.Computer.run_small).
    small_in_worker: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); bad values fail loudly."""
        environ = os.environ if environ is None else environ
        overrides = {}
        for f in fields(Limits):
            raw = environ.get(Limits.env_var(f.name))
            if raw is None or raw.strip() == "":
                continue
            kind = float if isinstance(f.default, float) else int
            try:
                value = kind(raw.replace("_", ""))
            except ValueError:
                raise ValueError(
                    f"{Limits.env_var(f.name)}={raw!r} is not a valid {kind.__name__}"
                ) from None
            if value <= 0:
                raise ValueError(f"{Limits.env_var(f.name)} must be positive, got {raw!r}")
            overrides[f.name] = value
        isolation = environ.get(ENV_PREFIX + "ISOLATION", "").strip().lower() or "process"
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"{ENV_PREFIX}ISOLATION={isolation!r} is not one of "
                             f"{', '.join(ISOLATION_MODES)}")
        return cls(
            limits=Limits(**overrides),
            log_level=environ.get(ENV_PREFIX + "LOG_LEVEL", "INFO").upper(),
            isolated=isolation != "inline",
            small_in_worker=isolation == "process",
        )
