"""Brand voice vectors in Qdrant; metadata mirrored in `brand_voice_embeddings`.

One collection per embedding model and dimension (`brand_voice__<model>_<dim>`), so switching from the
local MiniLM to OpenAI embeddings never mixes incompatible vectors.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from qdrant_client import AsyncQdrantClient
from qdrant_client.models import (
    Distance,
    FieldCondition,
    Filter,
    FilterSelector,
    MatchAny,
    MatchValue,
    PointStruct,
    VectorParams,
)

from core.ai.embeddings import Embedder


@dataclass(frozen=True)
class StyleExample:
    text: str
    score: float


class BrandVoiceIndex:
    def __init__(self, client: AsyncQdrantClient, embedder: Embedder) -> None:
        self.client = client
        self.embedder = embedder
        model = re.sub(r"[^a-z0-9]+", "_", embedder.model_name.lower())
        self.collection = f"brand_voice__{model}_{embedder.dimension}"
        self._ready = False

    async def _ensure_collection(self) -> None:
        if self._ready:
            return
        if not await self.client.collection_exists(self.collection):
            await self.client.create_collection(
                self.collection,
                vectors_config=VectorParams(size=self.embedder.dimension, distance=Distance.COSINE),
            )
        self._ready = True

    async def add_samples(
        self,
        *,
        brand_profile_id: uuid.UUID,
        organization_id: uuid.UUID | None,
        user_id: uuid.UUID | None,
        texts: list[str],
    ) -> list[str]:
        """Embed and store samples with their owner; returns the Qdrant point ids (as strings) in input order."""
        await self._ensure_collection()
        vectors = await self.embedder.embed(texts)
        ids = [str(uuid.uuid4()) for _ in texts]
        await self.client.upsert(
            self.collection,
            points=[
                PointStruct(
                    id=point_id,
                    vector=vector,
                    payload={
                        "brand_profile_id": str(brand_profile_id),
                        "organization_id": str(organization_id) if organization_id else None,
                        "user_id": str(user_id) if user_id else None,
                        "sample_text": text,
                        "content_type": "sample_post",
                    },
                )
                for point_id, vector, text in zip(ids, vectors, texts, strict=True)
            ],
        )
        return ids

    async def nearest(
        self,
        *,
        brand_profile_id: uuid.UUID,
        organization_id: uuid.UUID | None,
        user_id: uuid.UUID | None,
        query: str,
        limit: int = 3,
    ) -> list[StyleExample]:
        """The brand's samples closest to `query` (the content being written about), and only points of the
        brand's owner: Qdrant has no row-level security, so this one query path carries the tenant filter."""
        owners = [
            FieldCondition(key=key, match=MatchValue(value=str(value)))
            for key, value in (("organization_id", organization_id), ("user_id", user_id))
            if value is not None
        ]
        if not owners:
            raise ValueError("a brand-voice query needs the brand's organization or user")
        await self._ensure_collection()
        [vector] = await self.embedder.embed([query])
        result = await self.client.query_points(
            self.collection,
            query=vector,
            query_filter=Filter(
                must=[FieldCondition(key="brand_profile_id", match=MatchValue(value=str(brand_profile_id)))],
                should=list[Any](owners),  # points stored before organization_id was kept match by user
            ),
            limit=limit,
            with_payload=True,
        )
        return [
            StyleExample(text=str((p.payload or {}).get("sample_text", "")), score=float(p.score))
            for p in result.points
        ]

    async def delete_points(self, point_ids: list[str]) -> None:
        if point_ids:
            await self._ensure_collection()
            await self.client.delete(self.collection, points_selector=list[Any](point_ids))

    async def delete_for(self, *, brand_profile_ids: list[uuid.UUID], user_id: uuid.UUID | None = None) -> None:
        """Delete every sample of these brands, and every sample stored for `user_id` (by the payload
        fields `add_samples` writes and `nearest` filters on). Deleting what is already gone is a no-op."""
        conditions: list[Any] = []
        if brand_profile_ids:
            conditions.append(
                FieldCondition(key="brand_profile_id", match=MatchAny(any=[str(b) for b in brand_profile_ids]))
            )
        if user_id is not None:
            conditions.append(FieldCondition(key="user_id", match=MatchValue(value=str(user_id))))
        if not conditions:
            return
        await self._ensure_collection()
        await self.client.delete(self.collection, points_selector=FilterSelector(filter=Filter(should=conditions)))
