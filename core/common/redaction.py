"""Secrets never leave the process in logs, audit metadata or work payloads.

Every value that grants access is *known* here: the configured secrets (`register_settings`: each
`SecretStr` setting, every RECAST_SECRET_KEY(S), the passwords in DATABASE_URL / REDIS_URL / QDRANT_URL)
and each OAuth token the moment it is encrypted or decrypted (`core.common.secrets.SecretBox`, the one
place tokens are sealed and opened). `redact` replaces every known value, and tokens of the shapes Slack
and `Authorization` headers use, with `[redacted]`.

- Logs: `install_log_redaction` puts a record factory in front of `logging`, so every record (any logger,
  any handler, pytest's caplog too) is redacted when it is made, its traceback included. `RedactingFilter`
  does the same for a single handler.
- Audit metadata: `scrub` strips secret-named keys and known values (`core.system.models` applies it to
  every `AuditLog` made).
- Work payloads: `refuse_secrets` raises on them (`core.work.submit.add`): a task takes ids, not secrets.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

if TYPE_CHECKING:
    from core.config import Settings

REDACTED = "[redacted]"
MIN_LENGTH = 8  # shorter values would redact ordinary words; no real secret is that short
_PREFIX = MIN_LENGTH
MAX_TOKENS = 20_000  # OAuth tokens remembered (least recently seen forgotten first); settings never are
# Keys whose values are secrets whatever they hold (audit metadata, payloads). `token_expires_at` isn't one.
SECRET_KEY = re.compile(
    r"(^|_|-)(access_token|refresh_token|bot_token|user_token|id_token|token|secret|client_secret|password|passwd"
    r"|authorization|api_key|apikey|cookie|private_key|signing_secret)($|_|-)",
    re.IGNORECASE,
)
_NOT_SECRET_KEYS = frozenset({"token_expires_at", "token_type", "secret_key_id"})
# Shapes of tokens worth redacting even when never seen: Slack's, whatever follows `Bearer `, and an OAuth
# sign-in's `code`, `state` and `client_secret` in a URL's query (aiohttp's access log prints the callback's).
_SHAPES = re.compile(
    r"\bxox[abposre]-[A-Za-z0-9-]{8,}|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}"
    r"|(?<=[?&]code=)[^&\s\"']{8,}|(?<=[?&]state=)[^&\s\"']{8,}|(?<=[?&]client_secret=)[^&\s\"']{8,}"
)


class SecretInPayload(ValueError):
    """A work unit's payload holds a secret; tasks take ids and look secrets up themselves."""


class _Known:
    """Known secret values, indexed by their first characters so `redact` costs one dict look-up a
    character, however many secrets there are."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fixed: set[str] = set()
        self._tokens: OrderedDict[str, None] = OrderedDict()
        self._by_prefix: dict[str, list[str]] = {}

    def add(self, values: Iterable[str | None], *, fixed: bool) -> None:
        with self._lock:
            changed = False
            for value in values:
                if not value or len(value) < MIN_LENGTH:
                    continue
                if fixed:
                    changed |= value not in self._fixed
                    self._fixed.add(value)
                elif value in self._tokens:
                    self._tokens.move_to_end(value)
                else:
                    self._tokens[value] = None
                    changed = True
                    while len(self._tokens) > MAX_TOKENS:
                        self._tokens.popitem(last=False)
            if changed:
                index: dict[str, list[str]] = {}
                for value in self._fixed | set(self._tokens):
                    index.setdefault(value[:_PREFIX], []).append(value)
                for candidates in index.values():
                    candidates.sort(key=len, reverse=True)
                self._by_prefix = index

    def values(self) -> set[str]:
        return self._fixed | set(self._tokens)

    def redact(self, text: str) -> str:
        # Token shapes first: a known value that happens to be the start of a token (an 8-character
        # prefix seen elsewhere) would otherwise cut the token so its shape no longer matches.
        text = _SHAPES.sub(REDACTED, text)
        index = self._by_prefix
        if index and len(text) >= MIN_LENGTH:
            out: list[str] = []
            i = start = 0
            end = len(text) - MIN_LENGTH + 1
            while i < end:
                for value in index.get(text[i : i + _PREFIX], ()):
                    if text.startswith(value, i):
                        out += (text[start:i], REDACTED)
                        i = start = i + len(value)
                        break
                else:
                    i += 1
            if out:
                text = "".join(out) + text[start:]
        return text


_known = _Known()


def register(*values: str | None) -> None:
    """Known from now on: each value (a token just decrypted or received) is redacted wherever it shows."""
    _known.add(values, fixed=False)


def register_settings(settings: Settings) -> None:
    """Every secret the settings hold: each `SecretStr` field, every secret key, URL passwords."""
    values: list[str | None] = list(settings.secret_keys())
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values += [value.get_secret_value(), *value.get_secret_value().split(",")]
        elif isinstance(value, str) and name.endswith("_url") and "@" in value:
            values.append(_password(value))
    _known.add((v.strip() if v else v for v in values), fixed=True)


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def known_values() -> set[str]:
    return _known.values()


def redact(text: str) -> str:
    """`text` with every known secret and token-shaped value replaced by `[redacted]`."""
    return _known.redact(text)


def is_secret_key(key: str) -> bool:
    return key.lower() not in _NOT_SECRET_KEYS and SECRET_KEY.search(key) is not None


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value safe to store: secret-named keys' values and known secrets redacted."""
    if isinstance(value, Mapping):
        return {k: REDACTED if isinstance(k, str) and is_secret_key(k) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def refuse_secrets(kind: str, payload: Mapping[str, Any]) -> None:
    """Raise `SecretInPayload` when a payload has a secret-named key or a known secret anywhere in it."""
    if scrub(payload) != _plain(payload):
        raise SecretInPayload(f"the payload of a {kind!r} unit holds a secret; pass ids, look secrets up in the task")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# Logging ---------------------------------------------------------------------------------------------


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: its message (args merged in) and its formatted traceback."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it later, as it would have
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if (clean_text := redact(text)) != text:
            record.exc_text = clean_text
            # args of the exception are formatted by handlers that print `exc_info` themselves
            exc = record.exc_info[1]
            if exc is not None:
                exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A handler filter that redacts every record it passes (`handler.addFilter(RedactingFilter())`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_factory_lock = threading.Lock()


class _RedactingFactory:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(self.inner(*args, **kwargs))


def install_log_redaction(settings: Settings | None = None) -> None:
    """Register the settings' secrets and redact every log record from now on (idempotent)."""
    if settings is not None:
        register_settings(settings)
    with _factory_lock:
        current = logging.getLogRecordFactory()
        if not isinstance(current, _RedactingFactory):
            logging.setLogRecordFactory(_RedactingFactory(current))
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
