"""/export's zip: the creator's rows, transcripts and invoice PDFs, nobody else's rows, and no secret."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from core.accounts.export import ExportTooLarge, build_export, export_user_data
from tests.privacy_rows import plant_creator


def _contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


async def test_the_export_holds_the_creators_rows_and_transcripts_and_no_token_or_other_creator(core_deps):
    asha = await plant_creator(core_deps, telegram_id=5920001, name="Asha")
    ravi = await plant_creator(core_deps, telegram_id=5920002, name="Ravi", seed=False)
    async with core_deps.sessionmaker() as session:
        data = await export_user_data(session=session, store=core_deps.store, user_id=asha.user_id)
    files = _contents(data)

    expected = {
        "README.txt",
        "profile.json",
        "brand.json",
        "assets.json",
        "drafts.json",
        "invoices.json",
        "subscriptions.json",
        "payments.json",
        "usage.json",
        "connections.json",
        "activity.json",
        f"transcripts/{asha.asset_id}.txt",
    }
    assert expected <= set(files)
    assert files[f"transcripts/{asha.asset_id}.txt"].decode() == asha.transcript
    [pdf] = [n for n in files if n.startswith("invoices/")]
    assert files[pdf].startswith(b"%PDF")

    profile = json.loads(files["profile.json"])
    assert profile["user"]["id"] == str(asha.user_id) and profile["user"]["full_name"] == "Asha"
    assert "password_hash" not in profile["user"]
    assert [o["id"] for o in profile["organizations_owned"]] == [str(asha.organization_id)]
    brand = json.loads(files["brand.json"])
    assert [b["id"] for b in brand["brand_profiles"]] == [str(asha.brand_id)]
    assert len(brand["voice_samples"]) == 1 and len(brand["hashtags"]) == 1 and len(brand["calls_to_action"]) == 1
    drafts = json.loads(files["drafts.json"])
    assert [d["id"] for d in drafts["drafts"]] == [str(asha.draft_id)]
    assert len(drafts["approvals"]) == 1 and [p["id"] for p in drafts["scheduled_posts"]] == [str(asha.post_id)]
    [connection] = json.loads(files["connections.json"])
    assert connection["id"] == str(asha.connection_id) and connection["platform"] == "linkedin"
    assert "access_token" not in connection and "refresh_token" not in connection
    [invoice] = json.loads(files["invoices.json"])
    assert invoice["pdf"] == pdf and invoice["gst_number"] == "27AAPFU0939F1ZV"
    assert json.loads(files["payments.json"])[0]["amount"] == "1999.00"
    readme = files["README.txt"].decode()
    assert all(name in readme for name in expected if "/" not in name and name != "README.txt")

    everything = b"\n".join(files.values())
    for secret in asha.secrets + ravi.secrets:
        assert secret.encode() not in everything, secret
    for other in (ravi.user_id, ravi.asset_id, ravi.draft_id, ravi.brand_id, ravi.connection_id, ravi.post_id):
        assert str(other).encode() not in everything
    assert ravi.transcript.encode() not in everything and b"Ravi" not in everything


async def test_a_large_export_is_split_into_parts_under_the_limit_or_refused(core_deps):
    asha = await plant_creator(core_deps, telegram_id=5920003, name="Asha")
    async with core_deps.sessionmaker() as session:
        export = await build_export(session=session, store=core_deps.store, user_id=asha.user_id)
    export.files["transcripts/extra.txt"] = bytes(range(256)) * 40  # ~10 kB that hardly compresses
    whole = export.zip_bytes()
    limit = len(whole) // 2 + 1000
    parts = export.parts(limit=limit)
    assert len(parts) >= 2 and all(len(p) <= limit for p in parts)
    names = [set(_contents(p)) - {"README.txt"} for p in parts]
    assert set().union(*names) == set(export.files) and sum(len(n) for n in names) == len(export.files)
    assert all(b"part " in _contents(p)["README.txt"] for p in parts)
    assert len(export.parts()) == 1  # under Telegram's 50 MB: one zip
    with pytest.raises(ExportTooLarge):  # one file alone above the limit: refused, never half-sent
        export.parts(limit=2000)
