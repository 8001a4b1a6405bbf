from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.deps import CoreDeps
from tests.core.workflow.builders import committed_sessionmaker, make_deps, migrated_database


@pytest.fixture(scope="session")
def workflow_db_url(make_database: Any) -> str:
    """A database of its own whose transactions really commit (races need separate connections)."""
    return migrated_database(make_database, "workflow")


@pytest.fixture
async def real_sessionmaker(workflow_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async for maker in committed_sessionmaker(workflow_db_url):
        yield maker


@pytest.fixture
def deps(real_sessionmaker: Any, redis_client: Any, tmp_path: Any, offline_ai: Any) -> CoreDeps:
    return make_deps(real_sessionmaker, redis_client, tmp_path, offline_ai)
