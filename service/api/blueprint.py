"""flask-smorest's Blueprint with our strict JSON body parser and its documented errors."""

from __future__ import annotations

import flask_smorest

from service.api.parsing import JSONBodyParser

# What reading and validating a JSON body can answer besides 200 (names of the problem
# responses in the document's components; see service.api.openapi.ERROR_RESPONSES).
BODY_ERROR_RESPONSES = {
    400: "MalformedBody",
    413: "BodyTooLarge",
    415: "UnsupportedMediaType",
    422: "InvalidRequest",
}


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JSONBodyParser()

    def arguments(self, schema, **kwargs):
        """``flask_smorest.Blueprint.arguments``, documenting every error the body can get.

        flask-smorest documents only the 422, under a name that depends on the Python
        version (``UNPROCESSABLE_ENTITY``, ``UNPROCESSABLE_CONTENT`` from 3.13); we document
        400, 413, 415 and 422, each an RFC 9457 problem under a fixed name.
        """
        decorate = super().arguments(schema, **kwargs)

        def decorator(func):
            view = decorate(func)
            # webargs' wrapper shares the _apidoc dict of flask-smorest's wrapper.
            view._apidoc["arguments"]["responses"] = dict(BODY_ERROR_RESPONSES)
            return view

        return decorator
