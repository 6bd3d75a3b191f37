"""Print the OpenAPI contract as YAML: ``python -m service.api.openapi > openapi.yaml``.

``openapi.yaml`` at the top of the project is this command's output, and a test fails when
the two differ: run it again after changing a schema, a view's docstring or a limit.
"""

from __future__ import annotations

import sys

from service.api.contract import document, to_yaml
from service.app import create_app
from service.config import Settings


def generate() -> str:
    """The contract as YAML text, from an app built with the default settings."""
    app = create_app(Settings(isolated=False))
    return to_yaml(document(app.extensions["flask-smorest"]["apis"][""]["ext_obj"]))


def main() -> None:
    sys.stdout.write(generate())


if __name__ == "__main__":
    main()
