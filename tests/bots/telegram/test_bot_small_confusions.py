"""Issue 11, item 10: a voice note is titled by its topics (not "voice"), /history calls pasted text
"pasted text" (not "document"), and /plans says that every plan's limits are per month."""

from __future__ import annotations

import wave
from pathlib import Path

from chat import last_message_id, seed_and_onboard
from sqlalchemy import select
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.content.models import ContentAsset
from core.media.ffmpeg import run_ffmpeg
from core.media.speech import synthesize

CREATOR = 5610001


async def _voice_note(tmp_path: Path) -> bytes:
    speech = synthesize(" ".join(TALK.split(". ")[:4]) + ".")
    wav, ogg = tmp_path / "speech.wav", tmp_path / "voice.ogg"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(speech.sample_rate)
        out.writeframes(speech.samples.tobytes())
    await run_ffmpeg(["-y", "-i", wav, "-c:a", "libopus", "-b:a", "32k", ogg])
    return ogg.read_bytes()


async def test_a_voice_note_is_titled_by_its_topics_and_history_names_each_kind(
    live_deps, redis_url, run_id, tmp_path: Path
):
    core_deps = live_deps
    core_deps.settings.telegram_paste_window_seconds = 0.3
    voice = await _voice_note(tmp_path)
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await seed_and_onboard(core_deps, tg, CREATOR)
        tg.user_sends_voice(CREATOR, tg.add_file(voice), duration=20)
        status = await tg.wait_for_message(CREATOR, contains="100% · Done", timeout=120)
        tg.user_sends_text(CREATOR, TALK)
        await tg.wait_for_message(CREATOR, contains="100% · Done", timeout=60, since_message_id=status.message_id)
        since = last_message_id(tg, CREATOR)
        tg.user_sends_command(CREATOR, "history")
        history = await tg.wait_for_message(CREATOR, contains="Your recent uploads", timeout=15, since_message_id=since)
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(CREATOR)))
        voice_asset = await s.scalar(
            select(ContentAsset).where(ContentAsset.user_id == identity.user_id, ContentAsset.content_type == "audio")
        )
    assert voice_asset is not None and voice_asset.title.lower() not in ("voice", "")
    assert not (voice_asset.metadata_ or {}).get("provisional_title")
    assert voice_asset.title in status.content  # the progress message shows the new title too
    lines = history.content.splitlines()[1:]
    assert any(voice_asset.title[:50] in line and "· voice note ·" in line for line in lines), lines
    assert any("· pasted text ·" in line for line in lines), lines
    assert "· document ·" not in history.content and "· voice ·" not in history.content


async def test_plans_say_limits_are_per_month_even_on_yearly_plans(live_deps, redis_url, run_id):
    async with running_bot(live_deps, redis_url, run_id) as tg:
        await seed_and_onboard(live_deps, tg, CREATOR + 1)
        tg.user_sends_command(CREATOR + 1, "plans")
        plans = await tg.wait_for_message(CREATOR + 1, contains="Recast plans", timeout=15)
    yearly = next(line for line in plans.content.splitlines() if "Creator (yearly)" in line)
    assert yearly.startswith("• Creator (yearly) — ₹7,990 a year: 10 uploads and 200 AI credits a month"), yearly
    monthly = next(line for line in plans.content.splitlines() if "Creator (monthly)" in line)
    assert monthly.startswith("• Creator (monthly) — ₹799 a month: 10 uploads and 200 AI credits a month"), monthly
    assert "for dollars." not in plans.content and "Prices in US dollars: /plans USD" in plans.content
