"""Make this directory's helper modules importable whatever pytest's import mode.

With ``--import-mode=importlib`` pytest puts no test directory on ``sys.path``; the tests
here import ``deploy_support``, and gunicorn loads ``draining_app`` from this directory.
"""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
