"""Objectives: values, gradients and Hessians of plain and data-driven functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose

from service.errors import InvalidInput
from service.optimize import DataObjective, ScalarObjective
from .functions import b, compile_data, compile_scalar, least_squares, w, x, y

pytestmark = pytest.mark.filterwarnings("error")


def test_scalar_objective_evaluates_the_compiled_functions():
    f = compile_scalar(x**2 * y + sp.sin(y))
    assert f.n_params == 2 and f.n_rows is None
    assert_allclose(f.value([2.0, 0.5]), 4 * 0.5 + math.sin(0.5))
    assert_allclose(f.gradient([2.0, 0.5]), [2 * 2 * 0.5, 4 + math.cos(0.5)])
    assert_allclose(f.hessian([2.0, 0.5]), [[1.0, 4.0], [4.0, -math.sin(0.5)]])
    assert f.gradient([2.0, 0.5]).dtype == np.float64


@pytest.mark.parametrize("theta", [[1.5, -2.0], [0.0, 3.0], [-0.25, 0.0]])
def test_regularization_adds_its_penalty_gradient_and_curvature(theta):
    l1, l2 = 0.3, 0.7
    plain = compile_scalar(x**2 + x * y)
    regular = compile_scalar(x**2 + x * y, l1=l1, l2=l2)
    v = np.array(theta)
    assert_allclose(regular.value(v), plain.value(v) + l1 * np.abs(v).sum() + l2 * (v**2).sum())
    assert_allclose(regular.gradient(v), plain.gradient(v) + l1 * np.sign(v) + 2 * l2 * v)
    assert_allclose(regular.hessian(v), plain.hessian(v) + 2 * l2 * np.eye(2))
    assert regular.plain_gradient is None and plain.plain_gradient is not None


def test_parameter_count_comes_from_the_signature_or_is_given():
    assert ScalarObjective(lambda a, b, c: 0.0, lambda a, b, c: [0, 0, 0]).n_params == 3
    assert ScalarObjective(lambda *v: 0.0, lambda *v: [0] * 4, n_params=4).n_params == 4
    with pytest.raises(TypeError, match="n_params"):
        ScalarObjective(lambda *v: 0.0, lambda *v: [0] * 4)


def test_float_overflow_gives_inf_not_an_exception():
    # Pure Python floats raise OverflowError on x**2 past 1e154; IEEE arithmetic gives inf.
    f = ScalarObjective(lambda x: x**2, lambda x: [2 * x**3])
    assert f.value([1e200]) == math.inf
    assert f.gradient([1e200])[0] == math.inf
    assert f.gradient_at([1e200])[0] == math.inf


def test_a_pole_gives_inf_not_an_exception():
    f = ScalarObjective(lambda x: 1 / x, lambda x: [-1 / x**2])
    assert math.isinf(f.value([0.0]))
    assert not np.isfinite(f.gradient([0.0])).any()


def test_a_complex_value_is_nan():
    f = ScalarObjective(lambda x: x**0.5, lambda x: [0.5 * x**-0.5])
    assert math.isnan(f.value([-4.0]))
    assert math.isnan(f.gradient([-4.0])[0])


def test_a_bug_in_the_function_is_not_swallowed():
    f = ScalarObjective(lambda x: x.nope, lambda x: [x.nope])
    with pytest.raises(AttributeError):
        f.value([1.0])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_data_objective_reduces_the_per_sample_loss(regression_data, reduction):
    f = least_squares(regression_data, reduction=reduction)
    xs, ys = regression_data["x"], regression_data["y"]
    theta = np.array([1.5, -0.5])
    residual = theta[0] * xs + theta[1] - ys
    reduce = np.mean if reduction == "mean" else np.sum
    assert f.n_params == 2 and f.n_rows == 200
    assert_allclose(f.value(theta), reduce(residual**2))
    assert_allclose(f.gradient(theta), [reduce(2 * residual * xs), reduce(2 * residual)])
    # The per-sample Hessian [[2x^2, 2x], [2x, 2]] has a constant entry: it is broadcast.
    assert_allclose(f.hessian(theta), [[reduce(2 * xs**2), reduce(2 * xs)],
                                       [reduce(2 * xs), reduce(2 * np.ones_like(xs))]])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_minibatch_is_the_unbiased_estimate_of_the_full_objective(regression_data,
                                                                    reduction):
    f = least_squares(regression_data, reduction=reduction, l2=0.25)
    xs, ys = regression_data["x"], regression_data["y"]
    rows = np.array([3, 17, 42, 99, 150])
    theta = np.array([0.5, 2.0])
    residual = theta[0] * xs[rows] + theta[1] - ys[rows]
    scale = 1 / len(rows) if reduction == "mean" else 200 / len(rows)
    penalty = 0.25 * (theta**2).sum()
    assert_allclose(f.value(theta, rows), scale * (residual**2).sum() + penalty)
    assert_allclose(f.gradient(theta, rows),
                    scale * np.array([(2 * residual * xs[rows]).sum(), (2 * residual).sum()])
                    + 0.5 * theta)
    # The mean over all rows of a minibatch estimate is the full objective.
    batches = np.array_split(np.arange(200), 8)
    if reduction == "sum":
        estimates = [f.value(theta, r) * len(r) / 200 for r in batches]
        assert_allclose(sum(estimates) + penalty * (1 - sum(len(r) for r in batches) / 200),
                        f.value(theta))


def test_scalar_entries_of_a_data_gradient_are_broadcast_to_every_row():
    # loss = (w - c)^2 + 3 b: d/db = 3 does not depend on the data.
    c = np.array([1.0, 2.0, 6.0])
    f = DataObjective(lambda w, b, c: (w - c) ** 2 + 3 * b,
                      lambda w, b, c: [2 * (w - c), 3],
                      lambda w, b, c: [[2, 0], [0, 0]],
                      {"c": c}, reduction="sum")
    assert_allclose(f.value([0.0, 1.0]), (c**2).sum() + 9)
    assert_allclose(f.gradient([0.0, 1.0]), [-2 * c.sum(), 9.0])
    assert_allclose(f.hessian([0.0, 1.0]), [[6.0, 0.0], [0.0, 0.0]])
    mean = DataObjective(lambda w, b, c: (w - c) ** 2 + 3 * b,
                         lambda w, b, c: [2 * (w - c), 3], None, {"c": c})
    assert_allclose(mean.gradient([0.0, 1.0]), [-2 * c.mean(), 3.0])
    assert not mean.has_hessian


def test_columns_are_passed_in_the_given_order():
    seen = []

    def gradient(p, first, second):
        seen.append((first[0], second[0]))
        return [p * 0 + first - second]

    f = DataObjective(lambda p, first, second: p, gradient, None,
                      {"first": [10.0, 10.0], "second": [1.0, 1.0]})
    assert_allclose(f.gradient([0.0]), [9.0])
    assert seen == [(10.0, 1.0)]


@pytest.mark.parametrize("columns, reduction, l2, field", [
    ({"x": [1.0, 2.0], "y": [1.0]}, "mean", 0.0, "data"),
    ({"x": [], "y": []}, "mean", 0.0, "data"),
    ({}, "mean", 0.0, "data"),
    ({"x": [[1.0]], "y": [[1.0]]}, "mean", 0.0, "data/x"),
    ({"x": [1.0], "y": [1.0]}, "median", 0.0, "reduction"),
    ({"x": [1.0], "y": [1.0]}, "mean", -1.0, "regularization/l2"),
    ({"x": [1.0], "y": [1.0]}, "mean", float("nan"), "regularization/l2"),
])
def test_invalid_data_names_the_field(columns, reduction, l2, field):
    with pytest.raises(InvalidInput) as caught:
        compile_data((w * sp.Symbol("x") + b - sp.Symbol("y")) ** 2, (w, b), columns,
                     reduction=reduction, l2=l2)
    assert caught.value.errors[0].field == field


def test_data_gradient_agrees_with_finite_differences(regression_data):
    loss = sp.log(1 + sp.exp(-sp.Symbol("y") * (w * sp.Symbol("x") + b)))  # logistic
    labels = {"x": regression_data["x"], "y": np.sign(regression_data["y"])}
    f = compile_data(loss, (w, b), labels)
    theta, h = np.array([0.3, -0.2]), 1e-6
    numeric = [(f.value(theta + h * e) - f.value(theta - h * e)) / (2 * h) for e in np.eye(2)]
    assert_allclose(f.gradient(theta), numeric, rtol=1e-6)
