# syntax=docker/dockerfile:1
# Spotter's web app (Next.js, `output: 'standalone'`). Build from the repository root:
#   docker build -f infra/frontend.Dockerfile -t spotter-frontend .
# infra/frontend.Dockerfile.dockerignore keeps the context to frontend/, openapi/ and the spec
# module; /app mirrors the repository layout so the app's relative paths (../build, ../openapi)
# resolve as they do in a checkout.

# ---- spec: the documents `npm run generate` reads from ../build ----------------------------
# openapi-typescript refuses 3.2, so `python -m spotter.spec` derives the 3.1 copy beside the
# 3.2 original (it needs only PyYAML); in a checkout `npm run spec` does the same.
FROM python:3.11.13-slim-bookworm AS spec
RUN pip install --no-cache-dir pyyaml==6.0.3
WORKDIR /app
COPY openapi/openapi.yaml openapi/openapi.yaml
COPY service/spotter/__init__.py service/spotter/spec.py service/spotter/
RUN PYTHONPATH=service python -m spotter.spec --out build

# ---- deps: exactly what the lock file says ------------------------------------------------
# better-sqlite3 fetches a prebuilt binary for linux-x64/arm64 during install (GitHub releases);
# where it cannot, it compiles and then needs python3, make and g++ in this stage.
FROM node:20.20.0-bookworm-slim AS deps
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---- build: prebuild generates the typed client, `next build` writes .next/standalone -----
FROM deps AS build
ENV NEXT_TELEMETRY_DISABLED=1
COPY openapi/ /app/openapi/
COPY --from=spec /app/build /app/build
COPY frontend/ ./
# public/ is optional in a Next.js app; the runtime stage copies it, so make sure it exists.
RUN mkdir -p public && npm run build

# ---- runtime: the standalone server, static assets, a non-root user -----------------------
FROM node:20.20.0-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="spotter-frontend" \
      org.opencontainers.image.description="Spotter web app (Next.js standalone server)" \
      org.opencontainers.image.licenses="Apache-2.0"
# HOSTNAME: Docker sets it to the container id, and server.js binds to it; listen on all.
# AUTH_TRUST_HOST: Auth.js behind a proxy (Cloud Run, compose) trusts X-Forwarded-Host.
# SPOTTER_WEB_DATA_DIR: accounts in SQLite when DATABASE_URL is unset (compose mounts a volume).
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    AUTH_TRUST_HOST=true \
    SPOTTER_ENV=production \
    SPOTTER_WEB_DATA_DIR=/var/lib/spotter-web
RUN install -d -o 1000 -g 1000 -m 0750 /var/lib/spotter-web
WORKDIR /app
COPY --from=build --chown=1000:1000 /app/frontend/.next/standalone ./
COPY --from=build --chown=1000:1000 /app/frontend/.next/static ./.next/static
COPY --from=build --chown=1000:1000 /app/frontend/public ./public
# The base image's unprivileged `node` user (uid 1000).
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || '3000') + '/api/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server.js"]
