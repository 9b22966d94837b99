"""Where the deployment files live, so every infra test names them the same way."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CLOUDRUN_DIR",
    "COMPOSE_FILE",
    "DEPLOY_DOC",
    "FRONTEND_DIR",
    "FRONTEND_DOCKERFILE",
    "INFRA_DIR",
    "REDIS_ENV_FILE",
    "REPO_ROOT",
    "SCHEMA_DIR",
    "SERVICE_DOCKERFILE",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"
SERVICE_DOCKERFILE = INFRA_DIR / "service.Dockerfile"
FRONTEND_DOCKERFILE = INFRA_DIR / "frontend.Dockerfile"
COMPOSE_FILE = INFRA_DIR / "compose.yaml"
REDIS_ENV_FILE = INFRA_DIR / "redis.env"
CLOUDRUN_DIR = INFRA_DIR / "cloudrun"
SCHEMA_DIR = INFRA_DIR / "schemas"
FRONTEND_DIR = REPO_ROOT / "frontend"
DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
