"""The failover benchmark's reading of a bot's start-up log: answering, standing by, or not ready."""

from __future__ import annotations

from pathlib import Path

from loadtests.bench_failover import _role


def test_the_ready_line_says_whether_the_bot_answers_or_stands_by(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    log.write_text("12:00 parley.bots knowledge base: 30 chunks\n")
    assert _role(log) == ""
    log.write_text("12:00 parley.bots ready: serving as parley-bot, answering (LLM: off)\n")
    assert _role(log) == "answering"
    log.write_text(
        "12:00 parley.bots ready: serving as parley-bot, standing by (h:1:ab answers) (LLM: off)\n"
    )
    assert _role(log) == "standby"
