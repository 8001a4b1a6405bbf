"""A local OpenAI-compatible server: POST /v1/chat/completions in the documented wire format, for the official
`openai` client the product uses (`core.ai.structured.complete_json`).

It answers a structured-output request (`response_format: {"type": "json_schema", "json_schema": {"name",
"schema", "strict"}}`) with JSON for that schema, or what a test set with `answer_with`. Without a set answer
it plays a plausible, imperfect model: the analysis ("content_analysis") and the drafts ("draft") are built
from the transcript in the request the way a hurried model builds them, including the defects the product
must catch before they reach a chat:

- the talk's greeting ("Good morning everyone, thank you for coming.") as the opening line and first hook;
- a sentence cut at its last comma and left as a fragment ("When a client asks for something new, do not say
  no,.");
- a thread tweet over 280 characters (three points packed into one);
- an everyday-word hashtag ("#work") beside a specific one.

Errors are OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with a 400 for a request the
API would refuse (no messages, a json_schema without name or schema).

    async with FakeOpenAI() as api:
        client = openai.AsyncOpenAI(base_url=api.base_url, api_key="test")
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_STOP_WORDS = (
    "a an the and or but so if when then than that this these those it its is are was were be been being to of in "
    "on at for with from by as not no do does did you your yours we our us i me my they them their he she his her "
    "what which who how why all any each every one two more most much many very just only also can will would "
    "should could about into out up down over after before because while here there have has had get gets got "
    "make makes say says said let lets let's good morning everyone thank thanks coming see next time that's "
    "it's don't they're you're"
)
_STOP = frozenset(_STOP_WORDS.split())
_GENERIC_TAG = "#work"
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text) if s.strip()]


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _camel(phrase: str) -> str:
    return "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", phrase))


def _fragment(sentence: str) -> str:
    """What a hurried model makes of a long sentence: cut at its last comma, the comma left in ("..., .")."""
    head = sentence.rsplit(",", 1)[0]
    return f"{head},."


@dataclass
class Talk:
    """What the fake model reads in a request: the transcript and, for a draft, the analysis it was sent."""

    transcript: str
    analysis: dict[str, Any]

    @property
    def sentences(self) -> list[str]:
        return _sentences(self.transcript)

    def topic(self) -> str:
        announced = re.search(r"\blet'?s talk about ([^,.;]+)", self.transcript, re.I)
        if announced:
            return announced.group(1).strip()
        pairs: Counter[str] = Counter()
        for s in self.sentences:
            w = _words(s)
            pairs.update(f"{a} {b}" for a, b in zip(w, w[1:], strict=False) if a not in _STOP and b not in _STOP)
        if pairs:
            return pairs.most_common(1)[0][0]
        return self.keywords(1)[0] if self.keywords(1) else "the talk"

    def keywords(self, n: int) -> list[str]:
        counts = Counter(w for w in _words(self.transcript) if w not in _STOP and len(w) > 3)
        return [w for w, _ in counts.most_common(n)]

    def points(self) -> list[str]:
        """The talk's sentences a model would call its lessons: the longer ones, frame and all."""
        body = self.sentences[1:] if len(self.sentences) > 3 else self.sentences
        long = [s for s in body if len(s.split()) >= 8]
        return long[:6] or body[:6]

    def fragment_point(self) -> str | None:
        """The first 'When/If ..., ...' sentence, cut into a fragment."""
        for s in self.sentences:
            if re.match(r"^(when|if)\b", s, re.I) and s.count(",") >= 2:
                return _fragment(s)
        return None


def _analysis(talk: Talk, timed: list[tuple[float, float, str]]) -> dict[str, Any]:
    sentences = talk.sentences
    times = {text: (start, end) for start, end, text in timed}

    def when(s: str, i: int) -> tuple[float, float]:
        return times.get(s, (float(i * 5), float(i * 5 + 4)))

    hooks = [
        {"timestamp": when(s, i)[0], "end": when(s, i)[1], "text": s, "score": 90 - 10 * i}
        for i, s in enumerate(sentences[:3])
    ]
    points = talk.points()
    insights = list(points[:5])
    if (broken := talk.fragment_point()) is not None:
        insights = [broken, *insights[:4]]
    quotes = sorted((s for s in sentences if 6 <= len(s.split()) <= 16), key=len)[:3]
    topic = talk.topic()
    return {
        "topics": [topic, *talk.keywords(2)],
        "keywords": talk.keywords(10),
        "entities": {"persons": [], "organizations": [], "locations": []},
        "sentiment_score": 40,
        "emotions": {"joy": 0.4, "surprise": 0.1, "fear": 0.1, "anger": 0.0, "sadness": 0.0, "trust": 0.6},
        "hook_moments": hooks,
        "key_insights": insights,
        "quotable_moments": [
            {"timestamp": when(q, sentences.index(q))[0], "text": q, "score": 70} for q in quotes if q in sentences
        ],
        "virality_score": 62,
        "repurposing_value": 75,
        "seo_score": 58,
        "engagement_potential": 66,
        "platform_scores": {"linkedin": 80, "twitter": 70, "instagram": 60, "youtube": 65, "blog": 72},
        "language": "en",
        "model": "fake-gpt",
    }


def _format(system: str) -> str:
    for marker, name in (
        ("LinkedIn post:", "linkedin_post"),
        ("X thread:", "twitter_thread"),
        ("Instagram caption:", "instagram_caption"),
        ("YouTube Shorts:", "youtube_shorts"),
        ("Blog article", "blog_article"),
    ):
        if marker in system:
            return name
    return "linkedin_post"


def _draft(talk: Talk, output_format: str, system: str) -> dict[str, Any]:
    """A draft as a hurried model writes it: the talk's first line as the opener, its lessons as bullets (one
    of them cut into a fragment), the topic and an everyday word as hashtags."""
    sentences = talk.sentences
    opener = sentences[0] if sentences else ""
    analysis = talk.analysis
    hooks = [h for h in analysis.get("hooks", []) if h] or sentences[:1]
    points = [p for p in talk.points() if p != opener]
    if (broken := talk.fragment_point()) is not None:
        points = [broken, *points]
    points = points[:5]
    topic = (analysis.get("topics") or [talk.topic()])[0]
    cta_match = re.search(r"Call to action: (.+)", system)
    cta = cta_match.group(1).strip() if cta_match else "Follow for more."
    tags = [_camel(topic), _GENERIC_TAG]
    title = topic[:1].upper() + topic[1:]
    hook = hooks[0] if hooks[0] != opener else (hooks[1] if len(hooks) > 1 else hooks[0])
    answer: dict[str, Any] = {
        "title": title,
        "content_text": "",
        "caption": hook,
        "hashtags": tags,
        "cta": cta,
        "tweets": [],
        "script_beats": [],
    }
    if output_format == "twitter_thread":
        packed = " ".join(points[:-1])  # every point but the last in one tweet: over the limit
        rest = points[-1:]
        tweets = [f"{opener} {hook}", packed, *rest, f"{cta} {' '.join(tags)}"]
        answer["tweets"] = [f"{i}/{len(tweets)} {t}" for i, t in enumerate(tweets, start=1)]
    elif output_format == "linkedin_post":
        bullets = "\n".join(f"• {p}" for p in points)
        answer["content_text"] = f"{opener}\n\n{hook}\n\n{bullets}\n\n{cta}\n\n{' '.join(tags)}"
    elif output_format == "instagram_caption":
        lines = "\n".join(f"✅ {p}" for p in points)
        answer["content_text"] = f"{hook}\n\n{opener}\n\n{lines}\n\n{cta}\n\n{' '.join(tags)}"
    elif output_format == "youtube_shorts":
        answer["script_beats"] = [f"{opener} {hook}", *points, cta]
        answer["content_text"] = "\n".join(answer["script_beats"])
        answer["hashtags"] = ["#Shorts", *tags]
    else:
        sections = "\n\n".join(f"## {p.split(',')[0].rstrip('.')}\n\n{p}" for p in points)
        takeaways = "\n".join(f"- {p}" for p in points[:3])
        answer["content_text"] = (
            f"# {title}\n\n{opener} {hook}\n\n{sections}\n\n## Key takeaways\n\n{takeaways}\n\n"
            f"## Conclusion\n\n{sentences[-1] if sentences else ''}"
        )
        answer["caption"] = hook[:160]
    return answer


@dataclass
class FakeOpenAI:
    """The server; `requests` holds every request body, `replies` every answer's content."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    reply: str | None = None
    responder: Callable[[dict[str, Any]], str] | None = None
    _runner: web.AppRunner | None = None

    def answer_with(self, content: str) -> None:
        """Answer every request with `content` from now on (the fake model is set aside)."""
        self.reply = content

    def _error(self, message: str, param: str | None = None) -> web.Response:
        body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}
        return web.json_response(body, status=400)

    def _content(self, body: dict[str, Any]) -> str:
        if self.reply is not None:
            return self.reply
        if self.responder is not None:
            return self.responder(body)
        schema = (body.get("response_format") or {}).get("json_schema") or {}
        messages = body["messages"]
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in messages if m["role"] == "user"), "")
        transcript = user.split("Transcript:\n", 1)[-1].split("\n\nTimed segments", 1)[0].strip()
        if schema.get("name") == "content_analysis":
            timed = [
                (float(a), float(b), t.strip())
                for a, b, t in re.findall(r"^\[([\d.]+)-([\d.]+)\] (.+)$", user.split("Timed segments", 1)[-1], re.M)
            ]
            return json.dumps(_analysis(Talk(transcript, {}), timed))
        analysis_text = user.split("Analysis:\n", 1)[-1].split("\n\nTranscript:", 1)[0]
        try:
            analysis = json.loads(analysis_text)
        except json.JSONDecodeError:
            analysis = {}
        return json.dumps(_draft(Talk(transcript, analysis), _format(system), system))

    async def _completions(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            body = {"error": {"message": "Missing API key", "type": "invalid_request_error", "param": None}}
            return web.json_response(body, status=401)
        body = await request.json()
        self.requests.append(body)
        if not body.get("messages"):
            return self._error("'messages' is a required property", "messages")
        response_format = body.get("response_format")
        if response_format and response_format.get("type") == "json_schema":
            schema = response_format.get("json_schema") or {}
            if not schema.get("name") or not isinstance(schema.get("schema"), dict):
                return self._error("Missing required parameter: 'response_format.json_schema.name'.", "response_format")
        content = self._content(body)
        self.replies.append(content)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": body.get("model", "test-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(json.dumps(body)) // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": (len(json.dumps(body)) + len(content)) // 4,
                },
            }
        )

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
