# syntax=docker/dockerfile:1
#
# gradient-service as a container: gunicorn serving service.wsgi:app on $PORT (8000).
#
#   docker build -t gradient-service .
#   docker run --rm -p 8000:8000 gradient-service
#
# Two stages: the builder turns the project and its dependencies into wheels and installs
# them into a virtualenv; the runtime stage copies only that virtualenv and gunicorn.conf.py
# onto a fresh slim image. No compiler, pip cache, wheel or source tree reaches it.

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps everything else out of the context).
COPY pyproject.toml README.md ./
COPY service ./service

RUN pip wheel --wheel-dir /wheels . \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels /wheels/*.whl


FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="gradient-service" \
      org.opencontainers.image.description="Exact derivatives, gradients, Jacobians and Hessians over HTTP"

# PROMETHEUS_MULTIPROC_DIR: where every gunicorn worker writes its metrics, so that /metrics
# counts all of them; gunicorn.conf.py creates and empties it when the master starts.
# MPLCONFIGDIR: matplotlib's cache, writable by the non-root user (/tmp is writable even
# with a read-only root file system under compose).
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/gradient-metrics \
    MPLCONFIGDIR=/tmp/matplotlib

RUN groupadd --system --gid 10001 gradient \
    && useradd --system --uid 10001 --gid gradient --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin gradient

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY gunicorn.conf.py ./

USER 10001:10001
EXPOSE 8000

# slim has no curl: the probe is Python's urllib (a non-2xx answer or no answer exits 1).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=2)"]

# gunicorn reads ./gunicorn.conf.py; it handles SIGTERM by finishing in-flight requests.
CMD ["gunicorn", "service.wsgi:app"]
