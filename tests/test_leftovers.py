"""The end-of-run check: a process a test leaves running fails the run, by name, and is stopped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.leftovers import descendants, stop_all

ROOT = Path(__file__).resolve().parent.parent


def test_descendants_names_a_running_child_and_stop_all_stops_it() -> None:
    child = subprocess.Popen(["sleep", "300"])
    try:
        found = [p for p in descendants() if p.pid == child.pid]
        assert found and found[0].command == "sleep 300"
        stop_all(found, grace=5)
        assert child.wait(5) is not None
    finally:
        child.kill()
        child.wait()
    assert all(p.pid != child.pid for p in descendants())


def test_a_run_that_leaves_a_process_behind_fails_naming_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_configure, pytest_sessionfinish  # noqa: F401\n"
    )
    (tmp_path / "test_leaky.py").write_text(
        textwrap.dedent(
            """
            import subprocess

            def test_leaks() -> None:
                subprocess.Popen(["sleep", "301"])
            """
        )
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::ResourceWarning",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    assert "still running" in run.stdout and "sleep 301" in run.stdout, run.stdout
    leftover = subprocess.run(["pgrep", "-f", "sleep 301"], capture_output=True, text=True)
    assert leftover.stdout == "", "the leftover was not stopped"


def test_a_clean_run_passes(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_configure, pytest_sessionfinish  # noqa: F401\n"
    )
    (tmp_path / "test_clean.py").write_text(
        "import subprocess\n\ndef test_clean() -> None:\n    subprocess.run(['true'], check=True)\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr


def test_an_orphan_whose_parent_exited_is_still_caught(tmp_path: Path) -> None:
    """A wrapper that forks the server and dies (as ``faketime`` did): the orphan is still named."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_configure, pytest_sessionfinish  # noqa: F401\n"
    )
    (tmp_path / "test_orphan.py").write_text(
        "import subprocess\n\ndef test_orphans() -> None:\n"
        "    subprocess.run(['sh', '-c', 'sleep 303 & exit 0'], check=True)\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "sleep 303" in run.stdout, run.stdout
    assert subprocess.run(["pgrep", "-f", "sleep 303"], capture_output=True, text=True).stdout == ""
