"""The small HTML pages people land on in a browser (after a checkout, after connecting an account)."""

from __future__ import annotations

import html


def page(title: str, body: str, bot_username: str | None) -> str:
    """A phone-friendly page with one message and the way back to the chat."""
    if bot_username:
        back = (
            f'<p><a class="button" href="https://t.me/{html.escape(bot_username)}">Back to the chat '
            f"(@{html.escape(bot_username)})</a></p>"
        )
    else:
        back = "<p>You can close this page and go back to the chat with the Recast bot.</p>"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title, quote=False)} · Recast</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;"
        "line-height:1.5}.button{display:inline-block;padding:.6rem 1rem;border-radius:.4rem;background:#229ED9;"
        "color:#fff;text-decoration:none}</style></head>"
        f"<body><h1>{html.escape(title, quote=False)}</h1><p>{html.escape(body, quote=False)}</p>{back}</body></html>"
    )
