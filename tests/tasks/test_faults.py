"""Faults injected into real worker processes on their own PostgreSQL and Redis (see `faultlab`): the
database stopped mid-step, Redis killed and restarted, a damaged video. Each run must end with every asset
terminal, the creator told, and nothing duplicated (drafts, chat messages, credits)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from faultlab import SENTENCES, Lab

from core.media.samples import make_talk_video


@pytest.fixture(scope="module")
def talk_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    make_talk_video(path, SENTENCES, width=320, height=240)
    return path


async def test_postgres_stopped_for_eight_seconds_mid_transcription_loses_and_repeats_nothing(tmp_path, talk_video):
    async with Lab(tmp_path) as lab:
        lab.start_worker("w1")
        asset_id, user_id = await lab.ingest(9100001, talk_video)
        started = await lab.process(asset_id)
        await lab.wait_for_stage(asset_id, ("transcribing",))
        lab.stop_postgres()
        await asyncio.sleep(8)
        lab.start_postgres()
        status = await lab.wait_terminal(asset_id, timeout=240)
        tally = await lab.tally(asset_id, user_id, 9100001, started, status)
    assert status == "completed", lab.log_of("w1")[-3000:]
    assert tally.non_terminal_assets == 0 and tally.duplicated == 0
    assert tally.drafts == tally.draft_messages > 0


async def test_redis_killed_and_restarted_mid_run_loses_and_repeats_nothing(tmp_path, talk_video):
    async with Lab(tmp_path) as lab:
        lab.start_worker("w1")
        asset_id, user_id = await lab.ingest(9100002, talk_video)
        started = await lab.process(asset_id)
        await lab.wait_for_stage(asset_id, ("analysing", "planning", "generating"))
        lab.stop_redis()
        await asyncio.sleep(4)
        lab.start_redis()
        status = await lab.wait_terminal(asset_id, timeout=240)
        tally = await lab.tally(asset_id, user_id, 9100002, started, status)
        log = lab.log_of("w1")
    assert status == "completed", log[-3000:]
    assert tally.non_terminal_assets == 0 and tally.duplicated == 0
    assert tally.drafts == tally.draft_messages > 0
    # One line when the outage starts and one when it ends, not one per poll.
    assert log.count("Redis unreachable") == 1


async def test_a_video_damaged_in_the_middle_ends_with_drafts_or_a_clear_message_never_hanging(tmp_path, talk_video):
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(talk_video.read_bytes())
    middle = len(data) // 2
    data[middle : middle + len(data) // 5] = b"\x00" * (len(data) // 5)
    damaged.write_bytes(bytes(data))
    async with Lab(tmp_path) as lab:
        lab.start_worker("w1")
        asset_id, user_id = await lab.ingest(9100003, damaged)
        started = await lab.process(asset_id)
        status = await lab.wait_terminal(asset_id, timeout=240)
        tally = await lab.tally(asset_id, user_id, 9100003, started, status)
    assert status in ("completed", "failed"), lab.log_of("w1")[-3000:]
    assert tally.non_terminal_assets == 0 and tally.duplicated == 0
    # Whatever could not be made was said: either every job gave drafts, or a message explains.
    assert tally.drafts == tally.jobs or tally.failure_messages >= 1
