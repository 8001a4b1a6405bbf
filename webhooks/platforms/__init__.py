"""Platform webhooks (Meta, LinkedIn, TikTok, YouTube): each sender's signature checked on the raw body,
and each sender's subscription handshake (the GET it makes before it sends anything)."""
