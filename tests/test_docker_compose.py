"""The production shape in docker-compose.yml and the Dockerfile.

`docker compose config` is not on every machine (no Docker here), so the file is checked the same way:
YAML merge keys resolved, then parsed by a spec-complete Compose parser (compose-spec, the Rust
`compose_spec` crate), then the cross-references Compose itself checks (named volumes, depends_on).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

ROOT = Path(__file__).resolve().parents[1]


def _load(text: str) -> dict[str, Any]:
    raw = yaml.safe_load(text)  # resolves anchors and `<<` merges as Compose does
    PyCompose.from_json(json.dumps(raw))  # raises ValueError on anything the Compose spec rejects
    undefined: list[str] = []
    services: dict[str, Any] = raw["services"]
    volumes = set(raw.get("volumes") or {})
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith((".", "/", "~")) and source not in volumes:
                undefined.append(f"service {name!r} refers to undefined volume {source!r}")
        for dependency in service.get("depends_on") or {}:
            if dependency not in services:
                undefined.append(f"service {name!r} depends on undefined service {dependency!r}")
    if undefined:
        raise ValueError("; ".join(undefined))
    return raw


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_and_has_the_production_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"].startswith("redis:7")
    assert services["qdrant"]["image"].startswith("qdrant/qdrant")
    assert re.fullmatch(r"minio/minio:RELEASE\.[0-9TZ-]+", services["minio"]["image"]), "MinIO pinned to a release"
    for server in ("postgres", "redis", "qdrant", "minio"):
        assert services[server]["healthcheck"]["test"], server
        assert any(":" in v for v in services[server]["volumes"]), f"{server} keeps its data in a volume"
    commands = {name: service.get("command") for name, service in services.items()}
    assert commands["web"] == ["recast", "web"]
    assert commands["worker"] == ["recast", "worker"]
    assert commands["scheduler"] == ["recast", "scheduler"]
    assert commands["migrate"] == ["recast", "db", "upgrade", "--seed", "--login-role", "recast_web"]
    assert services["web"]["healthcheck"]["test"]
    for process in ("web", "worker", "scheduler", "migrate"):
        env = services[process]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0" and env["QDRANT_URL"] == "http://qdrant:6333"
        # Media in MinIO, with the credentials MinIO itself is started with.
        assert env["STORAGE_BACKEND"] == "s3" and env["S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["S3_BUCKET"] and env["S3_CREATE_BUCKET"] == "true"
        assert env["S3_ACCESS_KEY_ID"] == services["minio"]["environment"]["MINIO_ROOT_USER"]
        assert env["S3_SECRET_ACCESS_KEY"] == services["minio"]["environment"]["MINIO_ROOT_PASSWORD"]
        # The long-running processes log in as the RLS-bound role the migrate step makes; only it is the owner.
        user = env["DATABASE_URL"].split("://", 1)[1].split(":", 1)[0]
        assert user == ("recast" if process == "migrate" else "recast_web"), process


def test_processes_start_only_after_migrations_and_healthy_servers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services["migrate"]["depends_on"]) == {"postgres", "redis", "qdrant", "minio"}
    for process in ("web", "worker", "scheduler"):
        depends = services[process]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}
        assert depends["postgres"] == {"condition": "service_healthy"}
        assert depends["redis"] == {"condition": "service_healthy"}
        assert depends["minio"] == {"condition": "service_healthy"}


@pytest.mark.parametrize(
    ("broken", "complaint"),
    [
        ("services:\n  web:\n    image: x\n    volumes: [media:/data]\n", "undefined volume 'media'"),
        ("services:\n  web:\n    image: x\n    depends_on: {db: {condition: service_healthy}}\n", "undefined service"),
        ("services:\n  web:\n    image: x\n    depends_on: {web: {condition: healthy}}\n", "unknown variant"),
        ("services:\n  web:\n    imag: x\n", "imag"),
    ],
)
def test_the_check_rejects_what_compose_rejects(broken: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        _load(broken)


def test_the_image_copies_every_package_and_the_migrations() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, flags=re.M))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages | {"migrations", "alembic.ini"} <= copied
    # `recast db upgrade` finds migrations/ beside the source tree, so the image installs in place.
    assert re.search(r"pip install [^\n]*-e \.", dockerfile)
