"""The redaction itself: a record carrying a secret (message, arguments, traceback) is caught by the same scan
the flow test uses when nothing redacts it, and comes out `[redacted]` through the filter and the record
factory; audit metadata and work payloads are guarded the same way."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from core.common import redaction
from core.common.secrets import SecretBox
from core.config import Settings
from core.system import audit
from core.system.models import AuditLog
from core.work import submit
from tasks.registry import load_all


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def restore_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()  # `install_log_redaction` replaces it process-wide
    yield
    logging.setLogRecordFactory(factory)


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"test.redaction.{uuid.uuid4().hex[:6]}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    yield log
    log.handlers.clear()


def _log_a_leak(log: logging.Logger, secret: str) -> None:
    log.info("calling with key %s", secret)
    log.warning(f"header Authorization: Bearer {secret}")
    try:
        raise RuntimeError(f"the API said no to {secret}")
    except RuntimeError:
        log.exception("request failed")


def test_the_scan_finds_a_secret_nothing_redacted_and_the_filter_redacts_it(logger: logging.Logger) -> None:
    secret = f"sk-live-{uuid.uuid4().hex}"
    redaction.register_settings(Settings(_env_file=None, openai_api_key=SecretStr(secret)))  # type: ignore[call-arg]
    bare, filtered = Captured(), Captured()
    filtered.addFilter(redaction.RedactingFilter())
    logger.addHandler(bare)
    _log_a_leak(logger, secret)
    assert sum(secret in line for line in bare.lines) == 3  # message, header and traceback all leak

    logger.removeHandler(bare)
    logger.addHandler(filtered)
    _log_a_leak(logger, secret)
    assert not any(secret in line for line in filtered.lines)
    assert "calling with key [redacted]" in filtered.lines[0]
    assert "Bearer [redacted]" in filtered.lines[1]
    assert "RuntimeError: the API said no to [redacted]" in filtered.lines[2]


def test_the_record_factory_redacts_tokens_seen_by_the_secret_box(
    restore_factory: None, caplog: pytest.LogCaptureFixture
) -> None:
    box = SecretBox(f"key-{uuid.uuid4().hex}", b"test-purpose")
    token = f"tok-{uuid.uuid4().hex}"
    sealed = box.encrypt(token)
    redaction.install_log_redaction()
    caplog.set_level(logging.DEBUG)
    assert box.decrypt(sealed) == token
    logging.getLogger("test.redaction").debug("refreshing with %s then %s", token, {"nested": token})
    assert token not in caplog.text and caplog.text.count("[redacted]") == 2
    # Unknown values and short words pass untouched; Slack-shaped tokens never do.
    assert redaction.redact("plan Basic monthly, id 1234") == "plan Basic monthly, id 1234"
    assert redaction.redact("bot xoxb-1234-5678-abcdefgh") == "bot [redacted]"


def test_scrub_strips_secret_keys_and_known_values() -> None:
    secret = f"whsec-{uuid.uuid4().hex}"
    redaction.register(secret)
    clean = redaction.scrub(
        {"access_token": "anything", "nested": {"client_secret": 1, "note": f"used {secret}"}, "ok": [secret, 2]}
    )
    assert clean == {
        "access_token": "[redacted]",
        "nested": {"client_secret": "[redacted]", "note": "used [redacted]"},
        "ok": ["[redacted]", 2],
    }
    assert redaction.scrub({"token_expires_at": "2026-12-02", "team_id": "T1"}) == {
        "token_expires_at": "2026-12-02",
        "team_id": "T1",
    }


async def test_audit_rows_never_store_a_secret_and_carry_the_current_source(session: AsyncSession) -> None:
    secret = f"refresh-{uuid.uuid4().hex}"
    redaction.register(secret)
    with audit.acting_as(audit.AuditSource("operator", actor="operator:ana")):
        entry = await audit.record(
            session=session, action="test.audited", metadata={"refresh_token": secret, "why": f"got {secret}"}
        )
        direct = AuditLog(action="test.direct", metadata_={"password": "hunter22"})
    assert entry.metadata_ == {"refresh_token": "[redacted]", "why": "got [redacted]", "actor": "operator:ana"}
    assert entry.channel == "operator" and entry.ip_address is None
    assert direct.metadata_ == {"password": "[redacted]", "actor": "operator:ana"} and direct.channel == "operator"
    outside = await audit.record(session=session, action="test.no_source")
    assert outside.channel is None


async def test_a_work_payload_holding_a_secret_is_refused(session: AsyncSession) -> None:
    load_all()
    secret = f"S3cr3t-{uuid.uuid4().hex}"
    redaction.register(secret)
    with pytest.raises(redaction.SecretInPayload):
        await submit.add(session, "pipeline.run_job", {"job_id": str(uuid.uuid4()), "token": "x"})
    with pytest.raises(redaction.SecretInPayload):
        await submit.add(session, "pipeline.run_job", {"job_id": secret})
    _, created = await submit.add(session, "pipeline.run_job", {"job_id": str(uuid.uuid4())})
    assert created


def test_an_oauth_callbacks_code_and_state_never_reach_the_access_log(logger: logging.Logger) -> None:
    """aiohttp's access log prints the request line, query and all: a sign-in's code is a credential."""
    captured = Captured()
    captured.addFilter(redaction.RedactingFilter())
    logger.addHandler(captured)
    line = '127.0.0.1 "GET /oauth/linkedin/callback?code=AQTx9fK2-long_code&state=eyJwIjoibGkifQ.c2ln HTTP/1.1" 200'
    logger.info(line)
    logger.info("GET /x?client_secret=s3cr3t-value-1234&page=2 and ?code=short")
    assert "AQTx9fK2" not in captured.lines[0] and "eyJwIjoibGkifQ" not in captured.lines[0]
    assert "/oauth/linkedin/callback?code=[redacted]&state=[redacted] HTTP/1.1" in captured.lines[0]
    assert "client_secret=[redacted]&page=2" in captured.lines[1] and "code=short" in captured.lines[1]
