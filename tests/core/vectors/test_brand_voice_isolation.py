"""Qdrant has no row-level security: the brand-voice index's one query path filters by the brand's owner,
so a brand id that leaks to another organization finds none of the brand's samples."""

from __future__ import annotations

import uuid

from qdrant_client import AsyncQdrantClient
from qdrant_client.models import PointStruct

from core.vectors.brand_voice import BrandVoiceIndex

SAMPLE = "Consistency beats talent when you are building a personal brand on LinkedIn, one post a week."


async def test_a_brands_samples_are_found_only_for_the_brands_own_organization(offline_ai) -> None:
    index = BrandVoiceIndex(AsyncQdrantClient(location=":memory:"), offline_ai.embedder)
    brand, agency, rival = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await index.add_samples(brand_profile_id=brand, organization_id=agency, user_id=None, texts=[SAMPLE])

    own = await index.nearest(brand_profile_id=brand, organization_id=agency, user_id=None, query="brand on LinkedIn")
    leaked = await index.nearest(brand_profile_id=brand, organization_id=rival, user_id=None, query="brand on LinkedIn")

    assert [e.text for e in own] == [SAMPLE]
    assert leaked == []


async def test_samples_stored_before_organizations_were_kept_are_still_found_by_their_user(offline_ai) -> None:
    index = BrandVoiceIndex(AsyncQdrantClient(location=":memory:"), offline_ai.embedder)
    brand, creator, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await index.add_samples(brand_profile_id=brand, organization_id=None, user_id=None, texts=["warm-up"])
    [vector] = await offline_ai.embedder.embed([SAMPLE])
    legacy = {"brand_profile_id": str(brand), "user_id": str(creator), "sample_text": SAMPLE}  # no organization_id
    point = PointStruct(id=str(uuid.uuid4()), vector=vector, payload=legacy)
    await index.client.upsert(index.collection, points=[point])

    mine = await index.nearest(brand_profile_id=brand, organization_id=uuid.uuid4(), user_id=creator, query="LinkedIn")
    theirs = await index.nearest(brand_profile_id=brand, organization_id=None, user_id=other, query="LinkedIn")

    assert [e.text for e in mine] == [SAMPLE]
    assert theirs == []
