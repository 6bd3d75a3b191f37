"""gradient-service: exact calculus for machine learning over HTTP."""

__version__ = "0.1.0"
