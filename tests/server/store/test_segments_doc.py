"""docs/AUDIENCE.md *Segments*: every example line is canonical, valid, equal to its JSON form
where one is shown, and runs as written on both stores (same members as the reference)."""

from __future__ import annotations

import re
from pathlib import Path

from parley.proto.segments import decode_rule
from parley.proto.segments_check import validate
from parley.proto.segments_text import parse, to_text
from tests.server.store.segment_population import ATTR_TYPES
from tests.server.store.test_segments_contract import Loaded, _check, loaded  # noqa: F401 (the fixture)

DOC = (Path(__file__).parents[3] / "docs" / "AUDIENCE.md").read_text()
SECTION = DOC[DOC.index("## Segments") :]
EXAMPLES = re.search(r"```segment\n(.*?)```", SECTION, re.S).group(1).splitlines()  # type: ignore[union-attr]
JSON = re.search(r"```json\n(.*?)```", SECTION, re.S).group(1).strip()  # type: ignore[union-attr]


def test_examples_are_canonical_and_valid() -> None:
    assert len(EXAMPLES) >= 6
    for line in EXAMPLES:
        assert to_text(parse(line)) == line
        validate(parse(line), ATTR_TYPES)
    assert decode_rule(JSON) == parse(EXAMPLES[0])


def test_examples_run_as_written(loaded: Loaded) -> None:  # noqa: F811 (the imported fixture)
    for line in EXAMPLES:
        _check(loaded, parse(line))
