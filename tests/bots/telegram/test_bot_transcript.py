"""Issue 11, item 8: the transcript can be read (/transcript, a .txt file when long) and corrected
("milk → value"), and the drafts come back rewritten from the corrected words at no charge.
Real aiogram polling the Bot API stand-in, real worker, PostgreSQL, ffmpeg and Whisper."""

from __future__ import annotations

import re
import wave
from pathlib import Path

from chat import last_message_id, seed_and_onboard
from sqlalchemy import select
from test_bot_flow import TALK, running_bot

from core.accounts.models import ChatIdentity
from core.billing.models import UsageTracking
from core.content.models import ContentAnalysis, ContentAsset
from core.media.ffmpeg import run_ffmpeg
from core.media.speech import synthesize
from core.pipeline import stored_transcript

CREATOR = 5590001
SPOKEN = (
    "Consistency beats talent when you are building a personal brand on LinkedIn. "
    "Write for one person, not for everyone, and your engagement will double. "
    "Reply to every comment in the first hour, because the algorithm rewards conversations."
)
CANDIDATES = ("consistency", "conversations", "engagement", "comment", "talent", "algorithm", "brand")


def _count(word: str, text: str) -> int:
    return len(re.findall(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE))


async def _voice_note(tmp_path: Path) -> bytes:
    speech = synthesize(SPOKEN)
    wav, ogg = tmp_path / "speech.wav", tmp_path / "voice.ogg"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(speech.sample_rate)
        out.writeframes(speech.samples.tobytes())
    await run_ffmpeg(["-y", "-i", wav, "-c:a", "libopus", "-b:a", "32k", ogg])
    return ogg.read_bytes()


async def _usage(core_deps, user_id: int) -> tuple[int, int]:
    async with core_deps.sessionmaker() as s:
        identity = await s.scalar(select(ChatIdentity).where(ChatIdentity.external_user_id == str(user_id)))
        usage = await s.scalar(select(UsageTracking).where(UsageTracking.user_id == identity.user_id))
    return usage.content_uploads, usage.ai_credits_used


async def test_a_voice_notes_transcript_is_shown_corrected_and_the_drafts_rewritten_for_free(
    live_deps, redis_url, run_id, tmp_path: Path
):
    core_deps = live_deps
    voice = await _voice_note(tmp_path)
    user = CREATOR
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await seed_and_onboard(core_deps, tg, user)
        tg.user_sends_voice(user, tg.add_file(voice), duration=15)
        done = await tg.wait_for_message(user, contains="100% · Done", timeout=180)
        assert "/transcript" in done.content  # the done message says where the words are
        drafts = [m for m in tg.messages_to(user) if m.content.startswith("📝")]
        assert drafts
        before = await _usage(core_deps, user)

        since = last_message_id(tg, user)
        tg.user_sends_command(user, "transcript")
        shown = await tg.wait_for_message(user, contains="📜 Transcript of", timeout=15, since_message_id=since)
        heard = shown.content.split("\n\n")[1]
        assert "milk → value" in shown.content  # how to correct
        word = next(w for w in CANDIDATES if _count(w, heard) and any(_count(w, d.content) for d in drafts))

        since = last_message_id(tg, user)
        tg.user_sends_text(user, "milk → value")
        missing = await tg.wait_for_message(
            user, contains="isn't in the transcript", timeout=15, since_message_id=since
        )
        assert "“milk”" in missing.content and "unchanged" in missing.content

        since = last_message_id(tg, user)
        tg.user_sends_text(user, f"zebra -> horse\n{word.upper()} → steadfastness")
        fixed = await tg.wait_for_message(user, contains="replacement", timeout=15, since_message_id=since)
        n = _count(word, heard)
        assert f"Made {n} replacement" in fixed.content, fixed.content
        assert f"“{word.upper()}” → “steadfastness”" in fixed.content
        assert "“zebra” isn't in the transcript" in fixed.content
        assert f"Rewriting your {len(drafts)} draft" in fixed.content and "free" in fixed.content

        rewritten = []
        for _ in drafts:
            last = rewritten[-1].message_id if rewritten else fixed.message_id
            rewritten.append(
                await tg.wait_for_message(
                    user, contains="from the corrected transcript", timeout=60, since_message_id=last
                )
            )
        assert all(_count(word, m.content) == 0 for m in rewritten), [m.content for m in rewritten]
        assert any(_count("steadfastness", m.content) for m in rewritten)
        assert {m.content.split("\n")[0].split(" · ")[0] for m in rewritten} == {
            d.content.split("\n")[0].split(" · ")[0] for d in drafts
        }

        since = last_message_id(tg, user)
        tg.user_sends_command(user, "transcript")
        again = await tg.wait_for_message(user, contains="📜 Transcript of", timeout=15, since_message_id=since)
        assert "(corrected)" in again.content and _count(word, again.content.split("\n\n")[1]) == 0
        assert _count("steadfastness", again.content) == n

    assert await _usage(core_deps, user) == before  # no upload, no credits for the rewrite
    async with core_deps.sessionmaker() as s:
        asset = await s.scalar(
            select(ContentAsset).where(
                ContentAsset.content_type == "audio", ContentAsset.title == done.content.split("\n")[0][2:]
            )
        )
        analysis = await s.scalar(select(ContentAnalysis).where(ContentAnalysis.content_asset_id == asset.id))
    assert _count(word, analysis.transcript) == 0 and (asset.metadata_ or {})["transcript_original"] == heard
    # The timed words later clip captions are cut from are corrected too.
    segments = stored_transcript.stored_segments(core_deps, asset.id)
    said = " ".join(s["text"] for s in segments)
    words = " ".join(w["text"] for s in segments for w in s.get("words", []))
    assert _count(word, said) == _count(word, words) == 0 and _count("steadfastness", said) == n


async def test_a_long_transcript_comes_as_a_text_file(live_deps, redis_url, run_id):
    core_deps = live_deps
    user = CREATOR + 1
    long_text = "\n\n".join([TALK] * 6)
    async with running_bot(core_deps, redis_url, run_id) as tg:
        await seed_and_onboard(core_deps, tg, user)
        tg.user_sends_command(user, "transcript")
        await tg.wait_for_message(user, contains="There's no transcript yet", timeout=15)
        tg.user_sends_document(user, tg.add_file(long_text.encode()), file_name="talk.txt", mime_type="text/plain")
        await tg.wait_for_message(user, contains="100% · Done", timeout=90)
        since = last_message_id(tg, user)
        tg.user_sends_command(user, "transcript")
        doc = await tg.wait_for_message(user, contains="📜 Text of", timeout=15, since_message_id=since)
    assert doc.media_kind == "document" and "in the attached file" in doc.content
    [upload] = [u for u in tg.uploads if u.filename == "transcript.txt"]
    assert upload.content.decode().split() == long_text.split()
