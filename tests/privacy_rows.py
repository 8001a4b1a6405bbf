"""A creator with a row in every kind of table Recast keeps about people, for the /export and
/delete_account tests: brand, voice vectors, an upload with its media file and transcript, a draft with an
approval, a scheduled post on a connected account (with tokens), libraries, sessions and tokens, and a paid
invoice with billing details. Every secret is unique per creator so a test can scan bytes for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.accounts.models import EmailVerificationToken, PasswordResetToken, UserSession
from core.accounts.service import register_chat_user
from core.billing import invoices
from core.billing.models import Payment
from core.brand.models import BrandProfile, BrandVoiceEmbedding
from core.common.clock import utcnow
from core.content.models import ContentAnalysis, ContentAsset
from core.deps import CoreDeps
from core.distribution import connections
from core.distribution.models import PlatformConnection, ScheduledPost
from core.distribution.ports import Account, TokenSet
from core.repurposing.models import CallToAction, GeneratedContent, Hashtag, Template
from core.seed.service import apply_seed
from core.workflow.models import ApprovalRequest


@dataclass
class Planted:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    telegram_id: int
    brand_id: uuid.UUID
    asset_id: uuid.UUID
    draft_id: uuid.UUID
    post_id: uuid.UUID
    connection_id: uuid.UUID
    invoice_id: uuid.UUID | None
    transcript: str
    media_key: str
    point_ids: list[str]
    # Plain secrets and the stored (encrypted) form of the platform tokens: none may leave in an export.
    secrets: list[str] = field(default_factory=list)


async def plant_creator(
    deps: CoreDeps, *, telegram_id: int, name: str, with_invoice: bool = True, seed: bool = True
) -> Planted:
    tag = uuid.uuid4().hex[:8]
    async with deps.sessionmaker() as session:
        if seed:
            await apply_seed(session=session)
        reg = await register_chat_user(
            session=session,
            provider="telegram",
            external_user_id=str(telegram_id),
            chat_id=str(telegram_id),
            full_name=name,
        )
        uid, org_id = reg.user.id, reg.organization.id
        reg.user.phone = "+9198" + tag[:8].translate(str.maketrans("abcdef", "123456"))
        brand = BrandProfile(user_id=uid, organization_id=org_id, name=f"{name} brand", tone_preset="friendly")
        session.add(brand)
        await session.flush()
        assert deps.brand_index is not None
        sample = f"{name} writes short punchy posts about chai {tag}"
        point_ids = await deps.brand_index.add_samples(
            brand_profile_id=brand.id, organization_id=org_id, user_id=uid, texts=[sample]
        )
        session.add(BrandVoiceEmbedding(brand_profile_id=brand.id, vector_db_id=point_ids[0], sample_text=sample))

        asset_id = uuid.uuid4()
        media_key = f"assets/{asset_id}/source.txt"
        url = deps.store.put_bytes(f"{name}'s talk {tag}".encode(), media_key)
        asset = ContentAsset(
            id=asset_id,
            user_id=uid,
            organization_id=org_id,
            brand_profile_id=brand.id,
            title=f"{name} talk {tag}",
            content_type="text",
            file_url=url,
            upload_status="completed",
        )
        session.add(asset)
        await session.flush()
        transcript = f"Hello, this is {name} talking about chai and code {tag}."
        session.add(ContentAnalysis(content_asset_id=asset_id, transcript=transcript, topics=["chai"]))
        draft = GeneratedContent(
            content_asset_id=asset_id,
            user_id=uid,
            title=f"{name} LinkedIn {tag}",
            content_text=f"A post by {name} {tag}",
            target_platform="linkedin",
        )
        session.add(draft)
        await session.flush()
        session.add(ApprovalRequest(generated_content_id=draft.id, requested_by=uid, status="approved"))

        access, refresh = f"li-access-{tag}", f"li-refresh-{tag}"
        conn = await connections.save_connection(
            session,
            deps.settings,
            platform="linkedin",
            owner=connections.Owner(user_id=uid, organization_id=org_id),
            account=Account(platform_user_id=f"li-{tag}", username=f"{name.lower()}-{tag}"),
            tokens=TokenSet(access_token=access, refresh_token=refresh),
        )
        post = ScheduledPost(
            generated_content_id=draft.id,
            platform_connection_id=conn.id,
            user_id=uid,
            platform="linkedin",
            scheduled_for=utcnow() + timedelta(days=1),
            status="scheduled",
        )
        session.add(post)
        session.add(Hashtag(user_id=uid, hashtag=f"#chai{tag}"))
        session.add(CallToAction(user_id=uid, cta_text=f"Follow {name} {tag}"))
        session.add(Template(user_id=uid, organization_id=org_id, name=f"tpl {tag}", template_type="post", config={}))
        session_token, verify_token, reset_token = f"sess-{tag}-x", f"verify-{tag}-x", f"reset-{tag}-x"
        later = utcnow() + timedelta(days=1)
        session.add(UserSession(user_id=uid, token=session_token, expires_at=later))
        session.add(EmailVerificationToken(user_id=uid, token=verify_token, expires_at=later))
        session.add(PasswordResetToken(user_id=uid, token=reset_token, expires_at=later))
        await session.flush()

        invoice_id = None
        if with_invoice:
            await invoices.set_billing_details(
                session=session,
                user_id=uid,
                legal_name=f"{name} Legal {tag}",
                gstin="27AAPFU0939F1ZV",
                address=f"{tag} MG Road, Pune",
            )
            payment = Payment(
                user_id=uid,
                amount=Decimal(1999),
                currency="INR",
                status="succeeded",
                payment_gateway="razorpay",
                gateway_payment_id=f"pay_{tag}",
                gateway_response={"email": f"{tag}@example.in", "contact": "+919800000000"},
                paid_at=utcnow(),
            )
            session.add(payment)
            await session.flush()
            invoice = await invoices.issue_for_payment(
                session=session, settings=deps.settings, store=deps.store, payment=payment, description="Recast Pro"
            )
            invoice_id = invoice.id
        await session.commit()
        stored = await session.scalar(select(PlatformConnection.access_token).where(PlatformConnection.id == conn.id))
    assert stored is not None and access not in stored  # encrypted at rest
    return Planted(
        user_id=uid,
        organization_id=org_id,
        telegram_id=telegram_id,
        brand_id=brand.id,
        asset_id=asset_id,
        draft_id=draft.id,
        post_id=post.id,
        connection_id=conn.id,
        invoice_id=invoice_id,
        transcript=transcript,
        media_key=media_key,
        point_ids=point_ids,
        secrets=[access, refresh, stored, session_token, verify_token, reset_token],
    )
