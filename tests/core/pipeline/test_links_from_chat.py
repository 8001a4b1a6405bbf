"""A link sent from a chat is fetched by a worker: stored once however often the task runs, bound to its
chat, and a refusal is told in the chat's status message."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from fakes.site import local_site
from sqlalchemy import select

from core.accounts import service as accounts
from core.content.models import ContentAsset
from core.notify.ports import ChatRef
from core.notify.progress import ProgressState
from core.pipeline import ingest, progress
from core.pipeline.chat import chat_of
from core.seed.service import apply_seed

ARTICLE = (
    "<html><head><title>Show up every week</title></head><body><article>"
    + "".join(
        f"<p>Lesson {i}: consistency beats talent when you build a personal brand in public, week after week.</p>"
        for i in range(12)
    )
    + "</article></body></html>"
)


@contextlib.asynccontextmanager
async def site(hits: list[str]) -> AsyncIterator[str]:
    async def article(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text=ARTICLE, content_type="text/html")

    async def gone(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=410)

    async with local_site([web.get("/post", article), web.get("/gone", gone)]) as base:
        yield base


async def test_a_redelivered_link_task_stores_one_asset_bound_to_its_chat(core_deps, session) -> None:
    await apply_seed(session=session)
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id="7301", chat_id="7301", full_name="Asha Rao"
    )
    chat = ChatRef("telegram", "7301")
    hits: list[str] = []
    async with site(hits) as base:
        ids = [
            await ingest.ingest_link_from_chat(
                core_deps,
                user_id=reg.user.id,
                organization_id=reg.organization.id,
                url=f"{base}/post",
                chat=chat,
                status_message_id="41",
            )
            for _ in range(2)
        ]
    assert ids[0] is not None and ids == [ids[0], ids[0]]
    assert hits == ["/post"]  # the second delivery found the asset instead of fetching again
    asset = await session.get(ContentAsset, ids[0])
    assert asset is not None and asset.title == "Show up every week"
    assert chat_of(asset) == (chat, "41")
    assert core_deps.notifier.progress[-1] == (chat, "41", progress.queued("Show up every week"))


async def test_a_refused_link_is_told_in_the_status_message_and_stores_nothing(core_deps, session) -> None:
    await apply_seed(session=session)
    reg = await accounts.register_chat_user(
        session=session, provider="telegram", external_user_id="7302", chat_id="7302", full_name="Ravi Iyer"
    )
    chat = ChatRef("telegram", "7302")
    core_deps.settings.link_allow_private_networks = False  # as deployed
    async with site([]) as base:
        private = await ingest.ingest_link_from_chat(
            core_deps,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            url=f"{base}/post",
            chat=chat,
            status_message_id="7",
        )
        core_deps.settings.link_allow_private_networks = True
        expired = await ingest.ingest_link_from_chat(
            core_deps,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            url=f"{base}/gone",
            chat=chat,
            status_message_id="8",
        )
    assert private is None and expired is None
    told = {message_id: shown for _, message_id, shown in core_deps.notifier.progress}
    assert told["7"].state is ProgressState.REFUSED and "private or local network address" in told["7"].detail
    assert told["8"].state is ProgressState.REFUSED and "may have expired" in told["8"].detail
    stored = await session.scalars(select(ContentAsset.id).where(ContentAsset.user_id == reg.user.id))
    assert stored.all() == []
