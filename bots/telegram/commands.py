"""The bot's commands (the menu Telegram shows) and the nearest one to something mistyped."""

from __future__ import annotations

import difflib

COMMANDS = [
    ("start", "Set up your account"),
    ("brand", "Your brand voice"),
    ("status", "What I'm working on"),
    ("history", "Recent uploads"),
    ("transcript", "Read and correct the latest transcript"),
    ("why", "Why a draft scored what it did"),
    ("usage", "Plan usage"),
    ("plans", "Plans and prices"),
    ("upgrade", "Upgrade your plan"),
    ("subscription", "Your plan: renewal, cancel, resume"),
    ("invoices", "Your invoices (PDF)"),
    ("gstin", "GSTIN on your invoices"),
    ("connect", "Connect LinkedIn and other accounts"),
    ("connections", "Your connected accounts"),
    ("calendar", "What's scheduled to go out"),
    ("stats", "How your posts did this week"),
    ("roi", "What an upload's drafts won for its cost"),
    ("seo", "SEO checks of your latest blog draft"),
    ("report", "Last month's report (PDF)"),
    ("settings", "Email, timezone, language"),
    ("export", "Download all your data (zip)"),
    ("delete_account", "Delete your account and data"),
    ("help", "How it works"),
    ("cancel", "Stop what's in progress"),
]

# Words creators type for something a command does under another name.
SYNONYMS = {
    "credits": "usage",
    "limits": "usage",
    "quota": "usage",
    "pricing": "plans",
    "prices": "plans",
    "price": "plans",
    "billing": "subscription",
    "plan": "plans",
    "cancelplan": "subscription",
    "unsubscribe": "subscription",
    "invoice": "invoices",
    "receipts": "invoices",
    "gst": "gstin",
    "subscribe": "upgrade",
    "pay": "upgrade",
    "link": "connect",
    "accounts": "connections",
    "schedule": "calendar",
    "scheduled": "calendar",
    "analytics": "stats",
    "statistics": "stats",
    "results": "stats",
    "disconnect": "connections",
    "buy": "upgrade",
    "jobs": "status",
    "uploads": "history",
    "transcription": "transcript",
    "words": "transcript",
    "score": "why",
    "quality": "why",
    "drafts": "history",
    "profile": "settings",
    "email": "settings",
    "timezone": "settings",
    "voice": "brand",
    "return": "roi",
    "worth": "roi",
    "stop": "cancel",
    "mydata": "export",
    "download": "export",
    "gdpr": "export",
    "delete": "delete_account",
    "deleteaccount": "delete_account",
    "erase": "delete_account",
    "forget": "delete_account",
}

WHAT_I_TAKE = (
    "Send me a video, video note, voice note or audio file, a PDF or text file, a link to an article or "
    "video, or paste a longer text — and I'll turn it into ready-to-post drafts."
)


def known() -> list[str]:
    return [name for name, _ in COMMANDS]


def nearest(name: str) -> str | None:
    """The command a mistyped or unknown `name` most likely meant, or None."""
    name = name.lower().lstrip("/")
    if name in SYNONYMS:
        return SYNONYMS[name]
    close = difflib.get_close_matches(name, known(), n=1, cutoff=0.6)
    return close[0] if close else None
