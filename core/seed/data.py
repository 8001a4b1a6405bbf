"""Reference data every Recast installation starts with. `recast db seed` applies it idempotently.

Plan limits are enforced by `core.billing` (uploads and AI credits per billing period, upload size,
video length); features gate formats and integrations.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MB = 1024 * 1024
# Every plan writes every format; plans differ in volume and team features, not in what they can write.
ALL_FORMATS = ["linkedin_post", "twitter_thread", "instagram_caption", "youtube_shorts", "blog_article", "short_video"]
GB = 1024 * MB

# (name, slug stem, description, monthly INR, monthly USD, features, limits). Yearly = 10 × monthly
# (two months free), which is how Indian SaaS usually prices annual plans.
_PLANS: list[tuple[str, str, str, int, int, dict[str, Any], dict[str, Any]]] = [
    (
        "Creator",
        "creator",
        "For solo creators repurposing a few long videos a month.",
        799,
        12,
        {
            "formats": ALL_FORMATS,
            "brand_voice": True,
            "caption_styles": 3,
            "slack_approvals": False,
            "priority_queue": False,
            "watermark": False,
        },
        {
            "uploads_per_period": 10,
            "ai_credits_per_period": 200,
            "storage_bytes": 5 * GB,
            "max_upload_bytes": 500 * MB,
            "max_media_minutes": 60,
            "brand_profiles": 1,
            "team_members": 1,
            "client_accounts": 0,
            "platforms": 5,
            "clips_per_upload": 6,
        },
    ),
    (
        "Pro",
        "pro",
        "For full-time creators who publish every day.",
        1999,
        29,
        {
            "formats": ALL_FORMATS,
            "brand_voice": True,
            "caption_styles": "all",
            "slack_approvals": False,
            "priority_queue": True,
            "watermark": False,
        },
        {
            "uploads_per_period": 40,
            "ai_credits_per_period": 1000,
            "storage_bytes": 25 * GB,
            "max_upload_bytes": 2 * GB,
            "max_media_minutes": 180,
            "brand_profiles": 3,
            "team_members": 3,
            "client_accounts": 0,
            "platforms": 10,
            "clips_per_upload": 9,
        },
    ),
    (
        "Agency",
        "agency",
        "For agencies approving drafts for many client accounts in Slack.",
        6999,
        99,
        {
            "formats": ALL_FORMATS,
            "brand_voice": True,
            "caption_styles": "all",
            "slack_approvals": True,
            "qa_reviews": True,
            "priority_queue": True,
            "watermark": False,
        },
        {
            "uploads_per_period": 150,
            "ai_credits_per_period": 5000,
            "storage_bytes": 100 * GB,
            "max_upload_bytes": 4 * GB,
            "max_media_minutes": 240,
            "brand_profiles": 25,
            "team_members": 15,
            "client_accounts": 25,
            "platforms": 50,
            "clips_per_upload": 12,
        },
    ),
    (
        "Enterprise",
        "enterprise",
        "For media houses: custom limits, SSO and an SLA.",
        24999,
        349,
        {
            "formats": ALL_FORMATS,
            "brand_voice": True,
            "caption_styles": "all",
            "slack_approvals": True,
            "qa_reviews": True,
            "priority_queue": True,
            "sso": True,
            "sla": "99.9%",
            "watermark": False,
        },
        {
            "uploads_per_period": 1000,
            "ai_credits_per_period": 40000,
            "storage_bytes": 1024 * GB,
            "max_upload_bytes": 8 * GB,
            "max_media_minutes": 480,
            "brand_profiles": 500,
            "team_members": 200,
            "client_accounts": 500,
            "platforms": 500,
            "clips_per_upload": 15,
        },
    ),
]


def subscription_plans() -> list[dict[str, Any]]:
    plans: list[dict[str, Any]] = []
    for order, (name, stem, description, inr, usd, features, limits) in enumerate(_PLANS):
        for period, factor, offset in (("monthly", 1, 0), ("yearly", 10, 1)):
            plans.append(
                {
                    "name": name,
                    "slug": f"{stem}-{period}",
                    "description": description,
                    "billing_period": period,
                    "price_inr": Decimal(inr * factor),
                    "price_usd": Decimal(usd * factor),
                    "features": features,
                    "limits": limits,
                    "is_active": True,
                    "sort_order": order * 2 + offset,
                }
            )
    return plans


CAPTION_STYLES: list[dict[str, Any]] = [
    {
        "name": "Bold Pop",
        "description": "Big uppercase words, yellow highlight on the word being spoken. High-energy shorts.",
        "config": {
            "font": "DejaVu Sans",
            "font_size": 84,
            "bold": True,
            "uppercase": True,
            "primary_colour": "#FFFFFF",
            "highlight_colour": "#FFE14D",
            "outline_colour": "#000000",
            "outline_width": 6,
            "shadow": 2,
            "position": "center",
            "margin_v": 0,
            "words_per_line": 3,
            "highlight_active_word": True,
            "background_box": False,
        },
    },
    {
        "name": "Clean Minimal",
        "description": "Sentence-case white text with a thin outline near the bottom. Talking heads, podcasts.",
        "config": {
            "font": "DejaVu Sans",
            "font_size": 60,
            "bold": False,
            "uppercase": False,
            "primary_colour": "#FFFFFF",
            "highlight_colour": "#FFFFFF",
            "outline_colour": "#101010",
            "outline_width": 3,
            "shadow": 0,
            "position": "bottom",
            "margin_v": 260,
            "words_per_line": 6,
            "highlight_active_word": False,
            "background_box": False,
        },
    },
    {
        "name": "Boxed Karaoke",
        "description": "Words on a dark box, the active word in cyan. Readable on busy footage.",
        "config": {
            "font": "DejaVu Sans",
            "font_size": 66,
            "bold": True,
            "uppercase": False,
            "primary_colour": "#F5F5F5",
            "highlight_colour": "#29E5FF",
            "outline_colour": "#000000",
            "outline_width": 2,
            "shadow": 0,
            "position": "lower_third",
            "margin_v": 420,
            "words_per_line": 4,
            "highlight_active_word": True,
            "background_box": True,
            "box_colour": "#000000B0",
        },
    },
]

POST_FORMATS: list[dict[str, Any]] = [
    {
        "name": "LinkedIn post",
        "description": "Hook, insight bullets, takeaway, CTA, 3-5 hashtags.",
        "config": {
            "output_format": "linkedin_post",
            "platform": "linkedin",
            "max_chars": 3000,
            "hashtags": 5,
        },
    },
    {
        "name": "X thread",
        "description": "Numbered tweets of at most 280 characters, hook first.",
        "config": {
            "output_format": "twitter_thread",
            "platform": "twitter",
            "max_chars_per_tweet": 280,
            "max_tweets": 10,
        },
    },
    {
        "name": "Instagram caption",
        "description": "Caption up to 2,200 characters with up to 30 hashtags.",
        "config": {
            "output_format": "instagram_caption",
            "platform": "instagram",
            "max_chars": 2200,
            "hashtags": 20,
        },
    },
    {
        "name": "YouTube Shorts",
        "description": "Title up to 100 characters, description and a 45 s script.",
        "config": {"output_format": "youtube_shorts", "platform": "youtube", "max_title_chars": 100},
    },
    {
        "name": "Blog article",
        "description": "Markdown article with H2 sections and a conclusion.",
        "config": {"output_format": "blog_article", "platform": "blog", "min_words": 600},
    },
]

# (category, platform or None for any, hashtags)
HASHTAGS: list[tuple[str, str | None, list[str]]] = [
    (
        "creator_economy",
        None,
        [
            "contentcreator",
            "creatoreconomy",
            "contentstrategy",
            "personalbranding",
            "contentmarketing",
            "repurposecontent",
        ],
    ),
    (
        "marketing",
        "linkedin",
        ["marketing", "digitalmarketing", "b2bmarketing", "growthmarketing", "brandstrategy", "linkedintips"],
    ),
    (
        "business",
        "linkedin",
        ["entrepreneurship", "leadership", "startups", "smallbusiness", "careergrowth", "productivity"],
    ),
    (
        "india",
        None,
        ["indianstartups", "startupindia", "indiancreators", "digitalindia", "makeinindia", "bharat"],
    ),
    (
        "instagram_reach",
        "instagram",
        [
            "reelsindia",
            "reelsinstagram",
            "instagramgrowth",
            "explorepage",
            "creatorsofinstagram",
            "instadaily",
        ],
    ),
    ("tech", None, ["ai", "artificialintelligence", "tech", "saas", "productmanagement", "buildinpublic"]),
    ("finance", None, ["personalfinance", "investing", "moneytips", "financialfreedom", "stockmarketindia"]),
    ("education", None, ["learning", "edtech", "studytips", "upskilling", "careeradvice"]),
    ("youtube", "youtube", ["shorts", "youtubeshorts", "youtubeindia", "ytshorts"]),
    ("twitter", "twitter", ["buildinpublic", "thread", "startups", "marketing"]),
]

# (cta_type, platform or None, text)
CTAS: list[tuple[str, str | None, str]] = [
    ("follow", "linkedin", "Follow me for more practical notes on building in public."),
    ("comment", "linkedin", "What would you add? Tell me in the comments."),
    ("share", "linkedin", "Repost this if it helped someone in your network."),
    ("follow", "twitter", "Follow for more threads like this, and repost the first tweet to share it."),
    ("save", "instagram", "Save this post so you can come back to it later."),
    ("comment", "instagram", "Comment 'GUIDE' and I'll send you the full checklist."),
    ("subscribe", "youtube", "Subscribe for the full video every week."),
    ("link_click", "blog", "Want the templates I use? Join the newsletter, it's free."),
    ("follow", None, "Follow for more, and share this with one friend who needs it."),
]

SYSTEM_SETTINGS: list[tuple[str, Any, str, bool]] = [
    ("default_timezone", "Asia/Kolkata", "Timezone for new users", True),
    ("default_language", "en", "Language for new users", True),
    ("supported_currencies", ["INR", "USD"], "Currencies plans are priced in", True),
    (
        "gst",
        {"rate_percent": 18, "hsn_sac": "998314", "seller_state_code": "29"},
        "GST for Indian invoices: CGST+SGST within the seller's state, IGST otherwise",
        False,
    ),
    ("invoice_prefix", "RC", "Prefix of invoice numbers: RC/2026-27/000042", False),
    ("trial", {"plan_slug": "creator-monthly", "days": 7}, "Trial every new creator starts on", True),
    (
        "telegram_limits",
        {"cloud_download_bytes": 20 * MB, "cloud_upload_bytes": 50 * MB},
        "Telegram cloud Bot API transfer limits",
        True,
    ),
    ("clips", {"default_count": 6, "min_seconds": 15, "max_seconds": 60}, "Short clip defaults", True),
    (
        "ai_credit_costs",
        {"transcription_per_minute": 1, "analysis": 2, "text_draft": 1, "short_video": 3},
        "AI credits each pipeline step consumes",
        True,
    ),
]
