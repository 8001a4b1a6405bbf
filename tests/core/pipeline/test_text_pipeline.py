"""The creator pipeline on pasted text, end to end through core services (no chat adapter)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.accounts import service as accounts
from core.content import service as content
from core.content.errors import TextTooShort
from core.notify.ports import ChatRef
from core.pipeline import assets, jobs
from core.pipeline.revisions import rewrite_and_deliver
from core.repurposing.models import GeneratedContent, RepurposingJob
from core.seed.service import apply_seed

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


async def _creator(session, external_id: str = "1001"):
    await apply_seed(session=session)
    return await accounts.register_chat_user(
        session=session,
        provider="telegram",
        external_user_id=external_id,
        chat_id=external_id,
        full_name="Asha Rao",
        username="asha",
    )


async def test_pasted_text_becomes_one_draft_per_planned_format_delivered_once(core_deps, session):
    reg = await _creator(session)
    asset = await content.ingest_text(
        session=session,
        store=core_deps.store,
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        text=TALK,
    )
    asset.metadata_ = {**(asset.metadata_ or {}), "chat": {"provider": "telegram", "chat_id": "1001"}}
    await session.commit()

    job_ids = await assets.process_asset(core_deps, asset.id)
    assert len(job_ids) == 5
    for job_id in job_ids:
        await jobs.run_job(core_deps, job_id)
    # A redelivered task finds every job done: no second draft, no second message.
    again = await assets.process_asset(core_deps, asset.id)
    for job_id in job_ids:
        await jobs.run_job(core_deps, job_id)

    assert again == []
    async with core_deps.sessionmaker() as s:
        drafts = (await s.scalars(select(GeneratedContent).where(GeneratedContent.content_asset_id == asset.id))).all()
        statuses = set(
            (await s.scalars(select(RepurposingJob.status).where(RepurposingJob.content_asset_id == asset.id))).all()
        )
    assert len(drafts) == 5 and statuses == {"completed"}
    formats = {d.metadata_["output_format"] for d in drafts}
    assert formats == {
        "linkedin_post",
        "twitter_thread",
        "instagram_caption",
        "youtube_shorts",
        "blog_article",
    }
    sent = core_deps.notifier.sent
    assert len(sent) == 5
    assert all(chat == ChatRef("telegram", "1001") for chat, _ in sent)
    for _, message in sent:
        actions = [b.action for row in message.buttons for b in row]
        # The offline writer stores each draft's checks, so each also offers "❓ Why N?".
        assert [a.kind for a in actions] == ["approve", "revise", "regenerate", "copy", "why"]
        assert len({a.draft_id for a in actions}) == 1  # every button of a draft acts on that draft
    assert {b.action.draft_id for _, m in sent for row in m.buttons for b in row} == {d.id for d in drafts}


async def test_revise_rewrites_with_feedback_and_records_a_revision(core_deps, session):
    reg = await _creator(session, "1002")
    asset = await content.ingest_text(
        session=session,
        store=core_deps.store,
        user_id=reg.user.id,
        organization_id=reg.organization.id,
        text=TALK,
    )
    await session.commit()
    for job_id in await assets.process_asset(core_deps, asset.id):
        await jobs.run_job(core_deps, job_id)
    async with core_deps.sessionmaker() as s:
        linkedin = await s.scalar(
            select(GeneratedContent).where(
                GeneratedContent.content_asset_id == asset.id, GeneratedContent.target_platform == "linkedin"
            )
        )
    before = linkedin.content_text
    await rewrite_and_deliver(core_deps, linkedin.id, requested_by=reg.user.id, feedback="shorter")
    async with core_deps.sessionmaker() as s:
        after = await s.get(GeneratedContent, linkedin.id, populate_existing=True)
        from core.workflow.models import Revision

        revisions = await s.scalar(
            select(func.count()).select_from(Revision).where(Revision.generated_content_id == linkedin.id)
        )
    assert len(after.content_text) < len(before)
    assert after.metadata_["versions"][0]["content_text"] == before
    assert revisions == 1


async def test_short_text_is_refused_and_nothing_is_stored(core_deps, session):
    reg = await _creator(session, "1003")
    with pytest.raises(TextTooShort) as err:
        await content.ingest_text(
            session=session,
            store=core_deps.store,
            user_id=reg.user.id,
            organization_id=reg.organization.id,
            text="Just a short note.",
        )
    assert "80 words" in err.value.user_message
    assert not any((core_deps.store.root / "assets").glob("*")) if (core_deps.store.root / "assets").exists() else True


async def test_drafts_of_an_organization_with_a_workflow_are_handed_to_slack_approval(core_deps, session):
    from core.workflow.models import ApprovalWorkflow

    reg = await _creator(session, "1004")
    session.add(
        ApprovalWorkflow(
            organization_id=reg.organization.id,
            name="Client review",
            stages=[{"order": 1, "name": "Manager", "role": "manager"}],
        )
    )
    asset = await content.ingest_text(
        session=session, store=core_deps.store, user_id=reg.user.id, organization_id=reg.organization.id, text=TALK
    )
    await session.commit()
    for job_id in await assets.process_asset(core_deps, asset.id):
        await jobs.run_job(core_deps, job_id)
    handed = [kw["draft_id"] for name, kw in core_deps.enqueue.calls if name == "slack.post_approval"]
    assert len(handed) == 5 and len(set(handed)) == 5
