"""The versions of the service and of the engines that compute its answers."""

from __future__ import annotations

import platform
from importlib import metadata

from service import __version__

# Engines reported when installed: a faster exact engine may sit behind SymPy's interface.
OPTIONAL_ENGINES = ("symengine",)


def engine_versions() -> dict[str, str]:
    """Service, Python, SymPy and NumPy versions (and optional engines' when installed).

    Read from the installed distributions' metadata, so nothing is imported to answer.
    """
    versions = {
        "service": __version__,
        "python": platform.python_version(),
        "sympy": metadata.version("sympy"),
        "numpy": metadata.version("numpy"),
    }
    for name in OPTIONAL_ENGINES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
