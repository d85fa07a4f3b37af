"""The ``parley`` CLI: app, user and token helpers on a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from parley.server.cli import main
from parley.server.settings import Settings


def test_app_create_then_token_in_one_line(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    runner = CliRunner()
    created = runner.invoke(
        main, ["app", "create", "--name", "demo", "--format", "json", "--sqlite-path", db]
    )
    assert created.exit_code == 0, created.output
    values = json.loads(created.output)
    assert values["PARLEY_API_KEY"].startswith("pk_")
    env_format = runner.invoke(main, ["app", "create", "--name", "other", "--sqlite-path", db])
    assert env_format.output.startswith("export PARLEY_APP=app_")
    user = runner.invoke(
        main, ["user", "--app", values["PARLEY_APP"], "--user", "ann", "--role", "agent", "--sqlite-path", db]
    )
    assert user.exit_code == 0 and "agent" in user.output
    token = runner.invoke(
        main, ["token", "--user", "ann", "--sqlite-path", db], env={"PARLEY_APP": values["PARLEY_APP"]}
    )
    assert token.exit_code == 0, token.output
    claims = jwt.decode(
        token.output.strip(), values["PARLEY_APP_SECRET"], algorithms=["HS256"], audience="parley"
    )
    assert (claims["sub"], claims["role"]) == ("ann", "agent")
    listing = runner.invoke(main, ["app", "list", "--sqlite-path", db])
    assert values["PARLEY_APP"] in listing.output and "other" in listing.output
    key = runner.invoke(main, ["app", "key", "--app", values["PARLEY_APP"], "--sqlite-path", db])
    assert key.output.startswith("pk_")


def test_unknown_app_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["token", "--app", "app_nope", "--user", "x", "--sqlite-path", str(tmp_path / "p.db")]
    )
    assert result.exit_code != 0
    assert "no app app_nope" in result.output


def test_serve_help_lists_the_env_vars() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--redis-url" in result.output and "--mongo-url" in result.output


def test_admin_api_limits_come_from_options_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import parley.server.serve as serve

    seen: list[Settings] = []

    class Stopped:
        def run(self) -> None:
            pass

    def capture(settings: Settings, log_level: str = "info") -> Stopped:
        seen.append(settings)
        return Stopped()

    monkeypatch.setattr(serve, "make_server", capture)
    env = {"PARLEY_ADMIN_RATE": "7.5", "PARLEY_ADMIN_MAX_UPLOAD": "1000"}
    result = CliRunner().invoke(
        main, ["serve", "--admin-max-body", "2048", "--admin-rate-burst", "9"], env=env
    )
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert (settings.admin_max_body, settings.admin_max_upload) == (2048, 1000)
    assert (settings.admin_rate, settings.admin_rate_burst) == (7.5, 9.0)
    assert Settings().admin_max_body == 1024 * 1024, "documented default"


def test_serve_refuses_a_malformed_ops_listen_address() -> None:
    result = CliRunner().invoke(main, ["serve", "--ops-listen", "9100"])
    assert result.exit_code == 2 and "HOST:PORT" in result.output


def test_console_user_add_makes_the_first_admin_who_can_log_in(tmp_path: Path) -> None:
    """The first admin comes from the CLI (password on stdin), lands in the store hashed, and
    an agent role makes the chat user of the same id an agent."""
    db = str(tmp_path / "p.db")
    runner = CliRunner()
    created = runner.invoke(
        main, ["app", "create", "--name", "demo", "--format", "json", "--sqlite-path", db]
    )
    app = json.loads(created.output)["PARLEY_APP"]
    args = ["console-user", "add", "--app", app, "--user", "root", "--role", "admin", "--role", "agent"]
    added = runner.invoke(main, [*args, "--password-stdin", "--sqlite-path", db], input="s3cret-passw0rd\n")
    assert added.exit_code == 0, added.output
    assert added.output.strip() == "root\tadmin,agent"
    short = runner.invoke(main, [*args, "--password-stdin", "--sqlite-path", db], input="short\n")
    assert short.exit_code == 1 and "password must have 8" in short.output
    listing = runner.invoke(main, ["console-user", "list", "--app", app, "--sqlite-path", db])
    assert listing.output.strip() == "root\tadmin,agent"
    with sqlite3.connect(db) as conn:
        (hashed,) = conn.execute("SELECT password_hash FROM console_users").fetchone()
        (role,) = conn.execute("SELECT role FROM users WHERE user = 'root'").fetchone()
    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert role == "agent"
    ended = runner.invoke(
        main, ["console-user", "logout-everywhere", "--app", app, "--user", "root", "--sqlite-path", db]
    )
    assert ended.output.strip() == "0 sessions ended"
