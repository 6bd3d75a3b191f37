"""POST /v1/directional-derivative and /v1/taylor: for learners, thin views over the core."""

from __future__ import annotations

from flask.views import MethodView

from service.api.blueprint import Blueprint
from service.api.calculus import _compute
from service.api.learning_schemas import (
    DIRECTIONAL_DERIVATIVE_EXAMPLES, TAYLOR_EXAMPLES, DirectionalDerivativeRequest,
    DirectionalDerivativeResponse, TaylorRequest, TaylorResponse,
)
from service.calculus import learning

blp = Blueprint("learning", __name__, url_prefix="/v1",
                description="For learners: directional derivatives and Taylor models.")


@blp.route("/directional-derivative")
class DirectionalDerivativeView(MethodView):
    @blp.arguments(DirectionalDerivativeRequest, examples=DIRECTIONAL_DERIVATIVE_EXAMPLES)
    @blp.response(200, DirectionalDerivativeResponse)
    def post(self, args):
        """The derivative along a direction, u . grad f, symbolic and at a point.

        The direction (a list aligned with the variables, or an object) is scaled to a unit
        vector unless `normalize` is false; the zero vector cannot be normalized (422).
        """
        return _compute(learning.directional_derivative, args)


@blp.route("/taylor")
class TaylorView(MethodView):
    @blp.arguments(TaylorRequest, examples=TAYLOR_EXAMPLES)
    @blp.response(200, TaylorResponse)
    def post(self, args):
        """The Taylor model of an expression around a point, in the variables themselves.

        Order 1 or 2 for several variables (gradient, Hessian); up to the derivative-order
        limit for one. Exact coefficients (a float coordinate is the decimal it reads as);
        where the function or a derivative is not a finite real at the point, a 422.
        """
        return _compute(learning.taylor, args)
