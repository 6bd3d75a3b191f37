"""POST /v1/derivative, /v1/gradient, /v1/jacobian, /v1/hessian: thin views over the core."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from service.api import examples
from service.api.blueprint import Blueprint
from service.api.jsonio import json_response
from service.api.responses import (
    DerivativeResponse, GradientDescentResponse, GradientResponse, HessianResponse,
    JacobianResponse,
)
from service.api.schemas import (
    DerivativeRequest, GradientDescentRequest, GradientRequest, HessianRequest,
    JacobianRequest,
)
from service.calculus import operations
from service.calculus.descent import gradient_descent

blp = Blueprint("calculus", __name__, url_prefix="/v1",
                description="Exact derivatives, gradients, Jacobians and Hessians.")


def _compute(operation, args: dict, small=None):
    """Run ``operation`` under the time budget, in the supervised computation process; a
    request that ``small`` answers (a small one, operations.SMALL_REQUEST) in the worker."""
    limits = current_app.config["SETTINGS"].limits
    computer = current_app.extensions["computer"]
    return json_response(computer.run_small(small, operation, limits, **args))


@blp.route("/derivative")
class DerivativeView(MethodView):
    @blp.arguments(DerivativeRequest, examples=examples.DERIVATIVE)
    @blp.response(200, DerivativeResponse)
    def post(self, args):
        """The n-th derivative of one expression by one variable.

        Optionally its exact and float value at a point, and float values over many points.
        """
        return _compute(operations.derivative, args, operations.small_derivative)


@blp.route("/gradient")
class GradientView(MethodView):
    @blp.arguments(GradientRequest, examples=examples.GRADIENT)
    @blp.response(200, GradientResponse)
    def post(self, args):
        """The gradient of one expression, optionally evaluated at a point or many points."""
        return _compute(operations.gradient, args, operations.small_gradient)


@blp.route("/jacobian")
class JacobianView(MethodView):
    @blp.arguments(JacobianRequest, examples=examples.JACOBIAN)
    @blp.response(200, JacobianResponse)
    def post(self, args):
        """The Jacobian of several expressions: rows follow expressions, columns variables."""
        return _compute(operations.jacobian, args, operations.small_jacobian)


@blp.route("/hessian")
class HessianView(MethodView):
    @blp.arguments(HessianRequest, examples=examples.HESSIAN)
    @blp.response(200, HessianResponse)
    def post(self, args):
        """The Hessian; at a point its eigenvalues, definiteness and critical-point test."""
        return _compute(operations.hessian, args, operations.small_hessian)


@blp.route("/gradient-descent")
class GradientDescentView(MethodView):
    @blp.arguments(GradientDescentRequest, examples=examples.GRADIENT_DESCENT)
    @blp.response(200, GradientDescentResponse)
    def post(self, args):
        """Minimise an expression (or a loss over data) and return the descent trace.

        Optimizers gd, momentum, nesterov, adagrad, rmsprop, adam (PyTorch's update rules
        and defaults) and newton (exact Hessian). Divergence is a 200 with
        stop_reason "diverged", the trace ending at the last finite step.
        """
        return _compute(gradient_descent, args)
