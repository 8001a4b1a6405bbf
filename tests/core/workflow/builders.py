"""Real rows for workflow and Slack tests: an agency with a team, a client account and a creator's draft.

Drafts come from the real pipeline services (ingest → offline analysis → plan → one job → offline writer),
so `rewrite_draft` can revise them like production drafts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import service as accounts
from core.accounts.models import ChatIdentity, ClientAccount, Organization, TeamMember, User
from core.content import service as content
from core.db import migrate
from core.db.session import make_engine, make_sessionmaker, session_scope
from core.deps import CoreDeps
from core.pipeline import assets
from core.repurposing import drafting
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed
from core.workflow import workflows
from core.workflow.models import ApprovalWorkflow

TALK = (
    "Most creators in India post once and then disappear for a month. That is the biggest mistake. "
    "Consistency beats talent when you are building a personal brand on LinkedIn. "
    "Here is what worked for me after three years and two hundred posts. "
    "First, write for one person, not for everyone. When I started writing for early stage founders in "
    "Bangalore, my engagement doubled in six weeks. Second, turn every long video into ten small posts. "
    "One podcast episode gives you a thread, a carousel, three short clips and a newsletter. "
    "Third, reply to every comment in the first hour, because the algorithm rewards conversations. "
    "Why do most people quit? They measure followers instead of conversations. Measure the number of "
    "meaningful DMs you get each week instead. The secret is simple: show up every week, share what you "
    "learned, and be generous with your knowledge. Your audience will remember the person who taught "
    "them something useful, not the person with the fanciest graphics."
)


def migrated_database(make_database: Any, label: str) -> str:
    url: str = make_database(label)
    migrate.upgrade(url)
    return url


async def committed_sessionmaker(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on their own pooled connections that really commit: needed to race two transactions."""
    engine = make_engine(url, pool_size=10)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def make_deps(sessionmaker: Any, redis_client: Any, tmp_path: Path, offline_ai: Any) -> CoreDeps:
    from bots.slack.team_chat import SlackTeamChat
    from core.config import Settings
    from core.notify.ports import RecordingNotifier
    from core.storage.files import LocalFileStore

    return CoreDeps(
        settings=Settings(recast_data_dir=tmp_path / "data", _env_file=None),
        sessionmaker=sessionmaker,
        redis=redis_client,
        store=LocalFileStore(tmp_path / "media"),
        notifier=RecordingNotifier(),
        enqueue=RecordingEnqueue(),
        ai=offline_ai,
        brand_index=None,
        team_chat=SlackTeamChat(),
    )


class RecordingEnqueue:
    """The deps' `enqueue` in these tests: records each (task name, arguments) in `calls`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    async def __call__(self, task_name: str, /, **kwargs: object) -> None:
        self.calls.append((task_name, kwargs))


@dataclass
class Team:
    org: Organization
    client: ClientAccount
    owner: User
    manager: User
    client_reviewer: User
    outsider: User
    creator: User
    creator_chat: str


async def _user(session: AsyncSession, name: str) -> User:
    user = User(email=f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com", password_hash="!x", full_name=name)
    session.add(user)
    await session.flush()
    return user


async def build_team(session: AsyncSession) -> Team:
    """An agency: owner, a manager, a client-side reviewer, an outsider (creator role), a Telegram creator."""
    await apply_seed(session=session)
    tg_id = str(uuid.uuid4().int % 10**9)
    creator = (
        await accounts.register_chat_user(
            session=session,
            provider="telegram",
            external_user_id=tg_id,
            chat_id=tg_id,
            full_name="Asha Rao",
        )
    ).user
    owner, manager = await _user(session, "Olivia"), await _user(session, "Manoj")
    client_reviewer, outsider = await _user(session, "Chloe"), await _user(session, "Oscar")
    org = Organization(
        name="Northwind Agency", slug=f"northwind-{uuid.uuid4().hex[:8]}", owner_id=owner.id, type="agency"
    )
    session.add(org)
    await session.flush()
    for user, role in (
        (owner, "owner"),
        (manager, "manager"),
        (client_reviewer, "client"),
        (outsider, "creator"),
        (creator, "creator"),
    ):
        session.add(TeamMember(organization_id=org.id, user_id=user.id, role=role, status="active"))
    client = ClientAccount(organization_id=org.id, name="Acme Foods", slug="acme")
    session.add(client)
    await session.flush()
    return Team(org, client, owner, manager, client_reviewer, outsider, creator, tg_id)


def two_stage(team: Team) -> list[workflows.Stage]:
    return [
        workflows.Stage(order=1, name="Manager review", role="manager"),
        workflows.Stage(order=2, name="Client sign-off", approvers=(team.client_reviewer.id,)),
    ]


async def add_workflow(session: AsyncSession, team: Team, *, auto_publish: bool = False) -> ApprovalWorkflow:
    return await workflows.save_workflow(
        session=session,
        organization_id=team.org.id,
        client_account_id=team.client.id,
        by_user_id=team.owner.id,
        name="Acme approvals",
        stages=two_stage(team),
        auto_publish=auto_publish,
    )


async def make_draft(deps: CoreDeps, team: Team, *, client: bool = True) -> uuid.UUID:
    """One LinkedIn draft by the team's creator, through the real ingest/analysis/writer services."""
    async with session_scope(deps.sessionmaker) as session:
        asset = await content.ingest_text(
            session=session, store=deps.store, user_id=team.creator.id, organization_id=team.org.id, text=TALK
        )
        asset.client_account_id = team.client.id if client else None
        asset_id = asset.id
    job_ids = await assets.process_asset(deps, asset_id)
    async with session_scope(deps.sessionmaker) as session:
        jobs = [await session.get_one(RepurposingJob, j) for j in job_ids]
        job = next(j for j in jobs if j.output_format == "linkedin_post")
        draft = await drafting.generate_for_job(
            session=session, writer=deps.require_ai().writer, index=None, job_id=job.id
        )
        assert isinstance(draft, GeneratedContent)
        return draft.id


async def link_telegram(session: AsyncSession, user: User, chat_id: str) -> None:
    session.add(ChatIdentity(provider="telegram", external_user_id=chat_id, chat_id=chat_id, user_id=user.id))
    await session.flush()
