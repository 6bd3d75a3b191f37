"""Fixtures of the optimize tests: textbook functions and a regression data set."""

from __future__ import annotations

import numpy as np
import pytest

from .functions import TEXTBOOK, compile_scalar


@pytest.fixture(scope="session")
def textbook():
    return {name: (compile_scalar(f), minimum, start)
            for name, (f, minimum, start) in TEXTBOOK.items()}


@pytest.fixture(scope="session")
def regression_data():
    """y = 2.5 x - 1 + noise, 200 rows."""
    rng = np.random.default_rng(12345)
    xs = rng.uniform(-2.0, 2.0, 200)
    ys = 2.5 * xs - 1.0 + 0.3 * rng.standard_normal(200)
    return {"x": xs, "y": ys}
