"""``pip install parley`` (no extras) gives an SDK and a ``parley`` command that says what is missing."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_server_dependency_is_named_with_the_extra_to_install() -> None:
    code = "import sys; sys.modules['click'] = None; from parley.server.launcher import main; main()"
    run = subprocess.run([sys.executable, "-c", code, "serve"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "parley: this command needs the server extra (click is not installed): pip install 'parley[server]'"
    ]


def test_with_the_server_extra_the_launcher_runs_the_cli() -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from parley.server.launcher import main; main()", "--help"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0 and "serve" in run.stdout


def test_plain_pip_install_gives_the_sdk_and_a_helpful_command(tmp_path: Path) -> None:
    """The real thing: a fresh venv, ``pip install .`` with no extras (from pip's cache)."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    sdk = subprocess.run(
        [str(python), "-c", "from parley.sdk import Client, AdminClient; print('sdk ok')"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert sdk.stdout.strip() == "sdk ok", sdk.stderr
    serve = subprocess.run(
        [str(env_dir / "bin" / "parley"), "serve"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert serve.returncode == 1
    assert "pip install 'parley[server]'" in serve.stderr and "Traceback" not in serve.stderr, serve.stderr
