"""The one Settings object: every variable documented, secrets never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.config import Settings
from recast import commands
from recast.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
# Read straight from the environment, not through Settings: the ffmpeg lookup runs before any Settings exist;
# `recast db login-role` reads the password from the variable `--password-env` names (this one by default).
PROCESS_LEVEL = {"FFMPEG_BINARY", "RECAST_LOGIN_PASSWORD"}


def _readme_variables() -> set[str]:
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for first_cell in re.findall(r"^\| ([^|]+) \|", table, flags=re.M):
        names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_every_setting_is_in_the_readme_table_and_the_table_lists_nothing_else() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    documented = _readme_variables()
    assert settings - documented == set(), "settings missing from the README's configuration table"
    assert documented - settings - PROCESS_LEVEL == set(), "README documents variables Recast never reads"


def _settings_with_every_secret() -> tuple[Settings, list[str]]:
    values: dict[str, object] = {}
    secrets: list[str] = []
    for name, field in Settings.model_fields.items():
        if "SecretStr" in str(field.annotation):
            values[name] = SecretStr(f"s3cr3t-{name}-value")
            secrets.append(f"s3cr3t-{name}-value")
    values["database_url"] = "postgresql://recast:pg-s3cr3t-password@db.internal:5432/recast"
    values["redis_url"] = "redis://:redis-s3cr3t-password@cache.internal:6379/0"
    secrets += ["pg-s3cr3t-password", "redis-s3cr3t-password"]
    return Settings(_env_file=None, **values), secrets  # type: ignore[arg-type]


def test_secrets_never_appear_in_repr_str_or_recast_info(capsys: pytest.CaptureFixture[str]) -> None:
    settings, secrets = _settings_with_every_secret()
    commands.print_info(settings)
    info = capsys.readouterr().out

    assert "RAZORPAY_WEBHOOK_SECRET" in info and "(set)" in info
    assert "postgresql://recast:***@db.internal:5432/recast" in info
    for shown in (repr(settings), str(settings), info):
        leaked = [s for s in secrets[:-2] if s in shown]
        assert leaked == [], leaked
    for password in secrets[-2:]:
        assert password not in info


def test_recast_info_reads_the_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_env_only_value")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Kolkata")
    monkeypatch.setenv("LINK_DOWNLOAD_MAX_MB", "42")

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^STRIPE_API_KEY\s+\(set\)$", out, flags=re.M)
    assert re.search(r"^LINK_DOWNLOAD_MAX_MB\s+42$", out, flags=re.M)
    assert "sk_test_env_only_value" not in out


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+asyncpg://u:p%40ss@h:5432/d", "postgresql+asyncpg://u:***@h:5432/d"),
        ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
        ("postgresql://postgres@127.0.0.1:5432/recast", "postgresql://postgres@127.0.0.1:5432/recast"),
        ("postgresql://postgres:@/recast?host=/tmp/pg", "postgresql://postgres:@/recast?host=/tmp/pg"),
    ],
)
def test_url_passwords_are_masked(url: str, masked: str) -> None:
    assert commands.mask_url_password(url) == masked


def test_env_example_lists_every_setting() -> None:
    example = (README.parent / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    assert {name.upper() for name in Settings.model_fields} | PROCESS_LEVEL == listed


def test_public_processes_refuse_the_development_secret_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://recast.example.com")
    monkeypatch.delenv("RECAST_SECRET_KEY", raising=False)

    assert main(["web"]) == 2
    assert "RECAST_SECRET_KEY" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()  # refused before any server was started

    assert (
        Settings(
            _env_file=None,
            public_base_url="https://recast.example.com",
            recast_secret_key=SecretStr("a-real-random-key"),
        ).insecure_for_public_use()
        is None
    )
    local = Settings(_env_file=None, public_base_url="http://localhost:8080")
    assert local.insecure_for_public_use() is None  # on localhost the dev key is fine


def test_recast_info_warns_when_billing_is_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("BILLING_CONTACT", "billing@agency.example")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "WARNING: Billing is off" in out and "contact billing@agency.example" in out

    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_env_only_value")
    assert main(["info"]) == 0
    assert "Billing is off" not in capsys.readouterr().out


def test_the_billing_warning_knows_exactly_the_gateways_that_get_built() -> None:
    from core.billing.gateway_clients import billing_warning, build_gateways, configured_gateways

    bare = Settings(_env_file=None)
    assert configured_gateways(bare) == [] and "set BILLING_CONTACT" in (billing_warning(bare) or "")
    every = Settings(
        _env_file=None,
        razorpay_key_id="rzp",
        razorpay_key_secret=SecretStr("s"),
        cashfree_app_id="cf",
        cashfree_secret_key=SecretStr("s"),
        stripe_api_key=SecretStr("sk"),
        paypal_client_id="pp",
        paypal_client_secret=SecretStr("s"),
    )
    assert (
        sorted(configured_gateways(every))
        == sorted(build_gateways(every))
        == sorted(["razorpay", "cashfree", "stripe", "paypal"])
    )
    assert billing_warning(every) is None
    half = Settings(_env_file=None, razorpay_key_id="rzp")  # no secret: not a usable gateway
    assert configured_gateways(half) == list(build_gateways(half)) == []
