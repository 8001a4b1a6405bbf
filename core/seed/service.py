"""Apply the reference data of `core.seed.data` idempotently: a second run inserts nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Table, and_, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.registry import metadata
from core.seed import data

SEED_LOCK = 7_266_002


def _table(name: str) -> Table:
    return metadata.tables[name]


async def _insert_missing(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, object]], key: tuple[str, ...]
) -> int:
    """Insert rows whose natural `key` is not present yet. Used where the schema has no unique
    constraint to conflict on (public templates, starter hashtags and CTAs have user_id NULL)."""
    inserted = 0
    for row in rows:
        conditions = [table.c[k].is_(None) if row.get(k) is None else table.c[k] == row[k] for k in key]
        exists = await session.scalar(select(func.count()).select_from(table).where(and_(*conditions)))
        if not exists:
            await session.execute(insert(table).values(**row))
            inserted += 1
    return inserted


async def apply_seed(*, session: AsyncSession) -> dict[str, int]:
    """Load plans, public templates, starter hashtags/CTAs and system settings; return rows inserted."""
    counts: dict[str, int] = {}
    # Every process that starts the service seeds: one at a time, so check-then-insert never doubles a row.
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK})

    plans = _table("subscription_plans")
    result = await session.execute(
        insert(plans)
        .values(data.subscription_plans())
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(plans.c.id)
    )
    counts["subscription_plans"] = len(result.all())

    templates = [
        {
            "name": s["name"],
            "description": s["description"],
            "template_type": "caption_style",
            "is_public": True,
            "config": s["config"],
            "user_id": None,
        }
        for s in data.CAPTION_STYLES
    ] + [
        {
            "name": f["name"],
            "description": f["description"],
            "template_type": "social_post",
            "is_public": True,
            "config": f["config"],
            "user_id": None,
        }
        for f in data.POST_FORMATS
    ]
    counts["templates"] = await _insert_missing(
        session, _table("templates"), templates, ("name", "template_type", "user_id")
    )

    hashtags = [
        {"hashtag": tag, "platform": platform, "category": category, "user_id": None}
        for category, platform, tags in data.HASHTAGS
        for tag in tags
    ]
    counts["hashtag_library"] = await _insert_missing(
        session, _table("hashtag_library"), hashtags, ("hashtag", "platform", "category", "user_id")
    )

    ctas = [
        {"cta_text": text, "cta_type": cta_type, "platform": platform, "user_id": None}
        for cta_type, platform, text in data.CTAS
    ]
    counts["cta_library"] = await _insert_missing(session, _table("cta_library"), ctas, ("cta_text", "user_id"))

    settings_table = _table("system_settings")
    result = await session.execute(
        insert(settings_table)
        .values(
            [
                {"key": key, "value": value, "description": description, "is_public": public}
                for key, value, description, public in data.SYSTEM_SETTINGS
            ]
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(settings_table.c.id)
    )
    counts["system_settings"] = len(result.all())
    return counts
