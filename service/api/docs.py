"""GET /openapi.yaml (the contract) and GET /docs (Swagger UI, assets served here).

Swagger UI's JavaScript and CSS come from the ``flask-swagger-ui`` package (its ``dist``
folder, Swagger UI 5, which reads OpenAPI 3.1) and are served under ``/docs/assets/``, so
the page works on a network without internet access.
"""

from __future__ import annotations

from importlib import resources

from flask import Response, current_app
from flask.views import MethodView

from service.api.blueprint import Blueprint
from service.api.contract import document, to_yaml

ASSETS = str(resources.files("flask_swagger_ui") / "dist")
YAML_CONTENT_TYPE = "application/yaml; charset=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"

blp = Blueprint("docs", __name__, static_folder=ASSETS, static_url_path="/docs/assets",
                description="The contract, and its interactive documentation.")

# Relative URLs, so the page also works behind a proxy that mounts the service on a prefix.
DOCS_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>gradient-service API</title>
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.yaml",
      dom_id: "#swagger-ui",
      deepLinking: true,
      tryItOutEnabled: true,
      displayRequestDuration: true,
      defaultModelsExpandDepth: 0,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  </script>
</body>
</html>
"""


def contract_yaml() -> bytes:
    """The document generated from this app's schemas (equal to openapi.yaml, by test)."""
    cached = current_app.extensions.get("openapi_yaml")
    if cached is None:
        api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
        cached = current_app.extensions["openapi_yaml"] = to_yaml(document(api)).encode()
    return cached


@blp.route("/openapi.yaml")
class ContractView(MethodView):
    @blp.response(200, {"type": "object"}, content_type="application/yaml",
                  description="This document")
    def get(self):
        """The OpenAPI 3.1 contract of the service (this document)."""
        return Response(contract_yaml(), content_type=YAML_CONTENT_TYPE)


@blp.route("/docs")
class DocsView(MethodView):
    @blp.response(200, {"type": "string"}, content_type="text/html",
                  description="Swagger UI page")
    def get(self):
        """Interactive documentation (Swagger UI) of this contract.

        Its scripts and styles are served by the service itself under /docs/assets/: it
        needs no internet access.
        """
        return Response(DOCS_PAGE, content_type=HTML_CONTENT_TYPE)
