"""Observability: JSON logs with request ids, Prometheus metrics, engine versions.

- ``instrument.register_observability(app)`` wires it all into the Flask app;
- ``metrics.record_cache_lookup(cache, hit)`` is the hook for caches in the core
  (``from service.observability.metrics import record_cache_lookup``; no Flask import);
- ``gunicorn_logging.JsonLogger`` makes gunicorn's error and access logs the same JSON.

This file imports nothing: gunicorn's master loads ``gunicorn_logging`` and must not
create metrics (prometheus_client would write files for the master's pid).
"""
