"""Hypothesis strategies for valid segment rules over a fixed schema (shared with the store tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from parley.proto.segments import (
    And,
    Attr,
    Consent,
    Counter,
    EventAgg,
    HasId,
    Lifecycle,
    Not,
    Occurrence,
    OpenTicket,
    Or,
    Rated,
    Rfm,
    Rule,
    SegmentRef,
    Sentiment,
    Tag,
)  # fmt: skip

#: The attribute schema every generated rule is valid against.
SCHEMA: dict[str, str] = {
    "city": "string",
    "age": "number",
    "vip": "bool",
    "signup": "datetime",
    "interests": "string_list",
    "we ird": "string",
}
CMP = st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"])
# Printable text without surrogates (JSON cannot carry lone surrogates).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def _windows(small: bool) -> st.SearchStrategy[str]:
    top = {"s": 10**6, "m": 10**5, "h": 10**4, "d": 3000, "w": 500}
    if small:  # windows the store tests can tell apart on their fixture population
        return st.sampled_from(["1h", "24h", "2d", "7d", "30d", "90d"])
    return st.sampled_from(sorted(top)).flatmap(lambda u: st.integers(1, top[u]).map(lambda n: f"{n}{u}"))


def _attr(
    words: st.SearchStrategy[str], nums: st.SearchStrategy[Any], ms: st.SearchStrategy[int]
) -> st.SearchStrategy[Rule]:
    """Attribute clauses of every operator each type allows."""
    num = nums
    return st.one_of(
        st.builds(Attr, st.sampled_from(["city", "we ird"]), st.sampled_from(["eq", "ne", "prefix"]), words),
        st.builds(Attr, st.just("city"), st.just("in"), st.lists(words, min_size=1, max_size=3)),
        st.builds(Attr, st.just("age"), CMP, num),
        st.builds(Attr, st.just("age"), st.just("in"), st.lists(num, min_size=1, max_size=3)),
        st.tuples(num, num).map(lambda p: Attr("age", "between", sorted(p))),
        st.builds(Attr, st.just("vip"), st.sampled_from(["eq", "ne"]), st.booleans()),
        st.builds(Attr, st.just("signup"), CMP, ms),
        st.tuples(ms, ms).map(lambda p: Attr("signup", "between", sorted(p))),
        st.builds(Attr, st.just("interests"), st.just("contains"), words),
        st.builds(Attr, st.just("interests"), st.just("in"), st.lists(words, min_size=1, max_size=3)),
        st.builds(Attr, st.sampled_from(sorted(SCHEMA)), st.just("exists")),
    )


def leaves(*, small: bool = False, now: int = 0) -> st.SearchStrategy[Rule]:
    """Every kind of leaf clause. ``small``: values drawn from the store fixture's vocabulary."""
    if small:
        words: st.SearchStrategy[str] = st.sampled_from(
            ["Shanghai", "Beijing", "Shenzhen", "Sh", "shoes", "bags"]
        )
        nums: st.SearchStrategy[Any] = st.sampled_from([18, 25, 30, 41.5, 60])
        events = st.sampled_from(["view", "purchase"])
        tags = st.sampled_from(["interest:shoes", "interest:bags", "vip"])
        ats = st.sampled_from([now - 3 * 86400_000, now - 40 * 86400_000])
        counts: st.SearchStrategy[int | float] = st.integers(0, 4)
        ms = st.sampled_from([now - d * 86400_000 for d in (1, 3, 30, 40, 399, 400, 500)])
    else:
        words, events, tags = (
            text,
            st.from_regex(r"[a-z_][a-z0-9_.:]{0,10}", fullmatch=True),
            text.filter(bool),
        )
        nums = st.integers(-(10**12), 10**12) | st.floats(-1e12, 1e12, allow_nan=False)
        ats, counts = st.integers(0, 2**50), st.integers(0, 10**6) | st.floats(0, 1e6)
        ms = st.integers(0, 2**41)
    win = _windows(small)
    stages = st.sampled_from(["new", "active", "at_risk", "churned", "won_back"])
    return st.one_of(
        _attr(words, nums, ms),
        st.builds(
            Tag, tags, st.none() | st.sampled_from([0.5, 0.7, 0.9]), st.none() | st.sampled_from(["bot", "rule"]),
            st.none() | win,
        ),
        st.builds(EventAgg, st.just("count"), events, win, CMP, counts.map(int)),
        st.builds(EventAgg, st.just("sum"), events, win, CMP, counts, st.just("amount")),
        st.builds(Occurrence, st.sampled_from(["first", "last"]), events, st.sampled_from(["before", "after"]), ats),
        st.builds(
            lambda w, e, win_: Occurrence(w, e, "within", window=win_),
            st.sampled_from(["first", "last"]), events, win,
        ),
        st.builds(Counter, events, CMP, st.integers(0, 5)),
        st.builds(Rfm, st.sampled_from(["r", "f", "m"]), CMP, st.integers(1, 5)),
        st.builds(Lifecycle, st.sampled_from(["eq", "ne"]), stages),
        st.builds(Lifecycle, st.just("in"), st.lists(stages, min_size=1, max_size=3)),
        st.builds(Consent, st.sampled_from(["marketing", "marketing:sms"]), st.sampled_from(["granted", "denied", "withdrawn"])),
        st.builds(HasId, st.sampled_from(["phone", "email", "user", "device"])),
        st.builds(Rated, st.integers(1, 5)),
        st.just(OpenTicket()),
        st.builds(Sentiment, st.sampled_from(["negative", "positive"]), win),
    )  # fmt: skip


def rules(*, small: bool = False, now: int = 0, refs: bool = True) -> st.SearchStrategy[Rule]:
    """Valid rules up to a few levels deep (and/or with 2-4 items, not)."""
    base = leaves(small=small, now=now)
    if refs:
        base = base | st.builds(SegmentRef, st.sampled_from(["vip", "seg-2"]))
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=4).map(And),
            st.lists(inner, min_size=2, max_size=4).map(Or),
            inner.map(Not),
        ),
        max_leaves=8,
    )
