"""flask-smorest's Blueprint with our strict JSON body parser."""

from __future__ import annotations

import flask_smorest

from service.api.parsing import JSONBodyParser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JSONBodyParser()
