"""Issue 16 for the brand's clip dressing: a decompression-bomb logo or a gigapixel intro is refused from
its header, before a decoder allocates its frame, and nothing is stored."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import upload_bombs as bombs
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.service import register_chat_user
from core.brand import media as brand_media
from core.brand.errors import BrandMediaRejected
from core.brand.models import BrandProfile
from core.content.errors import FrameTooLarge
from core.storage.files import LocalFileStore


async def _brand(session: AsyncSession) -> BrandProfile:
    ext = f"brand-guards-{uuid.uuid4().hex[:8]}"
    reg = await register_chat_user(
        session=session, provider="telegram", external_user_id=ext, chat_id=ext, full_name="Brand Tester"
    )
    brand = BrandProfile(user_id=reg.user.id, name="Guarded Brand")
    session.add(brand)
    await session.flush()
    return brand


async def test_a_png_bomb_logo_and_a_gigapixel_intro_are_refused_unstored(
    session: AsyncSession, tmp_path: Path
) -> None:
    store = LocalFileStore(tmp_path / "media")
    brand = await _brand(session)
    logo = tmp_path / "logo.png"
    logo.write_bytes(bombs.png_bomb(16000, 16000))  # ~30 KB that decodes to 256 Mpx
    with pytest.raises(BrandMediaRejected) as refused:
        await brand_media.set_brand_media(session=session, store=store, brand=brand, role="logo", path=logo)
    assert refused.value.user_message.startswith("That image is bigger than 4096×4096 or damaged.")

    intro = bombs.gigapixel_video(tmp_path / "intro.mp4")
    with pytest.raises(FrameTooLarge):
        await brand_media.set_brand_media(session=session, store=store, brand=brand, role="intro", path=intro)
    template = await brand_media.general_template(session=session, brand=brand)
    assert (template.logo_url, template.intro_video_url) == (None, None)
    assert not list((tmp_path / "media").rglob("*.*"))
