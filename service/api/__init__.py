"""The HTTP layer: blueprints, schemas, JSON and problem+json. Views stay a few lines long."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from service.api import calculus, docs, learning, meta, ops, plots
from service.api.contract import ContractApi, configure


def register_api(app: Flask) -> Api:
    configure(app)
    api = ContractApi(app)
    api.register_blueprint(calculus.blp)
    api.register_blueprint(learning.blp)
    api.register_blueprint(meta.blp)
    api.register_blueprint(ops.blp)
    api.register_blueprint(docs.blp)
    api.register_blueprint(plots.blp)
    return api
