#!/usr/bin/env python
"""Compare fusion rules on the development sets in seconds (docs/BOT_QUALITY.md, session 8).

Usage: ``python scripts/fusion_lab.py [--full]``

A full ``python -m parley.bots.eval`` takes minutes per configuration; a fusion rule only changes
which chunk wins.  So this embeds every message and null probe of the development sets once,
keeps each signal's per-chunk scores (raw and calibrated) and its votes, and re-scores each rule
from them: top-1 of the argmax per set (before the threshold), "answered right" after the
probe-calibrated threshold, out-of-scope requests below the out-of-scope floor.  Then the
*leader decision*: for every answerable message with chunks in both scripts, the best chunk the
query's script can read (all signals) against the best other-script chunk (USE alone) — how often
each rule picks the right one when exactly one is right, and leave-one-set-out for rules with a
constant.  ``--full`` also runs the bot's whole decision (triage, thresholds, the same-language
twin preference, hand-overs) per rule, through :func:`parley.bots.evalsets.run_messages`, the
rule's order swapped in where ``fusion = "rrf"`` orders (its confidence: the weighted mean).

Holdout blindness: a holdout is skipped on its ``set.json`` flag, before any other file is read.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from parley.bots.evalsets import UNSEEN_DIR, build_index, load_set, retrieval_metrics, run_messages
from parley.bots.knowledge import RetrievalConfig
from parley.bots.knowledge import retrieval as R
from parley.bots.knowledge.embedders import (
    CachedEmbedder,
    Calibration,
    MiniLMEmbedder,
    MultilingualUSEEmbedder,
)
from parley.bots.knowledge.focus import asking_part, without_disclaimer
from parley.bots.knowledge.fusion import BM25, weighted
from parley.bots.knowledge.langs import detect_lang
from parley.bots.knowledge.probes import NULL_PROBES

ML, USE = MiniLMEmbedder.name, MultilingualUSEEmbedder.name
IDENTITY = Calibration(floor=0.0, threshold=0.5, ceiling=1.0)  # raw scores out of the index
Arr = Any  # numpy arrays (a script: mypy does not check it)


@dataclass
class Query:
    row: dict[str, Any]
    raw: dict[str, Arr]
    cal: dict[str, Arr]
    votes: dict[str, Arr]
    part: Query | None = None  # a long message's asking sentences alone (retrieval's ``focus``)


@dataclass
class Set:
    name: str
    docs: list[str]
    twins: Arr  # each chunk's translation twin (mutual best other-language match, USE >= 0.56) or -1
    msgs: list[Query]
    probes: list[Query]


def dev_sets(root: Path = UNSEEN_DIR) -> list[str]:
    """The development sets under ``root``: only ``set.json`` of a holdout is read, for its flag."""
    names = []
    for p in sorted(root.iterdir()):
        meta = p / "set.json"
        if meta.is_file() and not json.loads(meta.read_text(encoding="utf-8")).get("holdout", False):
            names.append(p.name)
    return names


def collect(names: list[str], embedders: list[CachedEmbedder], root: Path = UNSEEN_DIR) -> list[Set]:
    """Raw signals (identity calibrations), then each model's own calibration applied here."""
    cals = {e.name: e.calibration for e in embedders} | {BM25: R._BM25_CALIBRATION}
    keep = R._BM25_CALIBRATION
    R._BM25_CALIBRATION = IDENTITY
    for e in embedders:
        e.calibration = IDENTITY
    out = []
    try:
        for name in names:
            s = load_set(root / name)
            assert not s.holdout, name
            index = build_index(embedders, s.kb)
            snap = index._snap

            def query(text: str, row: dict[str, Any], index: Any = index, snap: Any = snap) -> Query:
                # As KnowledgeIndex._search: the language of what was typed, the words as repaired.
                fixed = snap.speller.correct(text) if index.config.spelling and row else text
                fixed = without_disclaimer(fixed) if index.config.focus and row else fixed
                raw, votes, _ = index._signals(snap, fixed, detect_lang(text), index.config, {})
                asked = asking_part(fixed) if index.config.focus and row else None
                part = query(asked, {}) if asked else None
                return Query(row, raw, {k: cals[k](v) for k, v in raw.items()}, votes, part)

            sim = snap.matrices[(USE, "body")] @ snap.matrices[(USE, "body")].T
            zh = snap.langs == "zh"
            sim = np.where(zh[:, None] != zh[None, :], sim, -1.0)
            nn = sim.argmax(axis=1)
            twins = np.array([j if nn[j] == i and sim[i, j] >= 0.56 else -1 for i, j in enumerate(nn)])
            out.append(
                Set(
                    name,
                    [c.doc_id for c in snap.chunks],
                    twins,
                    [query(str(m["text"]), m) for m in s.messages],
                    [query(p, {}) for p in NULL_PROBES],
                )
            )
    finally:
        R._BM25_CALIBRATION = keep
        for e in embedders:
            e.calibration = cals[e.name]
    return out


# ---------------------------------------------------------------- rules: (query, set) -> order score


def mean(q: Query, s: Set) -> Arr:
    return weighted(q.cal, q.votes, {}, boost=False)


def focused(rule: Callable[[Query, Set], Arr], q: Query, s: Set) -> Arr:
    """As retrieval's ``focus``: a long message's score averaged with its asking sentences' score."""
    return rule(q, s) if q.part is None else (rule(q, s) + rule(q.part, s)) / 2


def boost(q: Query, s: Set) -> Arr:
    return weighted(q.cal, q.votes, {}, boost=True)


def leaders(q: Query) -> tuple[int, int] | None:
    """The best same-script chunk (fused) and the best other-script one, when both exist."""
    same, w = q.votes[BM25], focused(mean, q, None)  # type: ignore[arg-type]
    if same.all() or not same.any():
        return None
    return int(np.argmax(np.where(same, w, -9))), int(np.argmax(np.where(~same, w, -9)))


def pick(q: Query, choose: Callable[[Query, int, int], int]) -> Arr:
    w = focused(mean, q, None)  # type: ignore[arg-type]
    pair = leaders(q)
    if pair is None:
        return w
    out = w - 10.0
    out[choose(q, *pair)] = 1.0
    return out


def shared(gap: float) -> Callable[[Query, Set], Arr]:
    """The two leaders compared on the one signal both have (raw USE, the other script + gap)."""
    return lambda q, s: pick(q, lambda q, i, j: i if q.raw[USE][i] >= q.raw[USE][j] + gap else j)


def linear(a: float, t: float) -> Callable[[Query, Set], Arr]:
    """Same-script leader iff its raw USE lead + a x its raw BM25 > t (a fitted boundary)."""
    return lambda q, s: pick(
        q, lambda q, i, j: i if q.raw[USE][i] - q.raw[USE][j] + a * q.raw[BM25][i] > t else j
    )


def standardised(q: Query, s: Set) -> Arr:
    """Each signal standardised over the chunks it reads for this query (its own null), then averaged."""
    tot, cnt = 0.0, 0.0
    for k, v in q.cal.items():
        seen = v[q.votes[k]]
        if len(seen) >= 3:
            tot = tot + np.where(q.votes[k], (v - seen.mean()) / (seen.std() + 1e-6), 0.0)
            cnt = cnt + q.votes[k]
    return tot / np.maximum(cnt, 1)


def probe_z(q: Query, s: Set) -> Arr:
    """Stouffer: each signal's z against the probes' scores on this KB, summed / sqrt(count)."""
    tot, cnt = 0.0, 0.0
    for k, v in q.raw.items():
        null = np.concatenate([p.raw[k][p.votes[k]] for p in s.probes])
        tot = tot + np.where(q.votes[k], (v - null.mean()) / null.std(), 0.0)
        cnt = cnt + q.votes[k]
    return tot / np.sqrt(np.maximum(cnt, 1))


def logit_sum(q: Query, s: Set) -> Arr:
    """Naive-Bayes style: the calibrated scores' log-odds added (a missing signal adds 0)."""
    p = {k: np.clip(v, 0.02, 0.98) for k, v in q.cal.items()}
    return sum(np.where(q.votes[k], np.log(v / (1 - v)), 0.0) for k, v in p.items())


def impute(q: Query, s: Set) -> Arr:
    """A missing BM25/MiniLM score imputed from USE by this query's own linear fit over the chunks it reads."""
    u = q.cal[USE]
    num, den = u.copy(), np.ones_like(u)
    for k in (BM25, ML):
        v = q.votes.get(k)
        if v is None or v.sum() < 3:
            continue
        x, y = u[v], q.cal[k][v]
        b = float(((x - x.mean()) * (y - y.mean())).mean() / x.var()) if x.var() > 1e-9 else 0.0
        num, den = num + np.where(v, q.cal[k], np.clip(y.mean() + b * (u - x.mean()), 0, 1)), den + 1
    return num / den


def twin_judged(q: Query, s: Set) -> Arr:
    """An other-script chunk whose translation twin the query's script reads is judged there only."""
    w, same = focused(mean, q, s), q.votes[BM25]
    gone = ~same & (s.twins >= 0) & same[np.maximum(s.twins, 0)]
    return np.where(gone, -1.0, w)


RULES: dict[str, Callable[[Query, Set], Arr]] = {
    "weighted mean (default)": mean,
    "boost (BM25 only lifts)": boost,
    "shared evidence: leaders on USE": shared(0.0),
    "per-query standardised mean": standardised,
    "probe-null z, Stouffer": probe_z,
    "log-odds sum of the calibrations": logit_sum,
    "missing signal imputed from USE": impute,
    "twin judged in the query's script": twin_judged,
}


def score(sets: list[Set], rule: Callable[[Query, Set], Arr]) -> dict[str, dict[str, int]]:
    res = {}
    for s in sets:
        conf = [float(mean(p, s)[int(np.argmax(rule(p, s)))]) for p in s.probes]
        null = float(np.quantile(conf, 0.95))
        threshold = min(max(null + 0.10, 0.15), 0.30)
        r = dict.fromkeys(("top1", "n", "same", "xl", "right", "given", "oos"), 0)
        for q in s.msgs:
            i = int(np.argmax(focused(rule, q, s)))
            c, ok = float(focused(mean, q, s)[i]), s.docs[i] in q.row["answers"]
            if q.row["expect"] == "answer":
                r["n"] += 1
                r["top1"] += ok
                r["xl" if q.row["cross_lingual"] else "same"] += ok
                r["given"] += c >= threshold
                r["right"] += ok and c >= threshold
            elif q.row["kind"] == "out-of-scope":
                r["oos"] += c < null + 0.05
        res[s.name] = r
    return res


def leader_study(sets: list[Set]) -> None:
    """Where exactly one of the two leaders is right: which rule picks it (see the module docstring)."""
    pairs = []
    for s in sets:
        for q in s.msgs:
            lead = leaders(q) if q.row["expect"] == "answer" else None
            if lead is not None:
                oks = [s.docs[k] in q.row["answers"] for k in lead]
                if oks[0] != oks[1]:
                    pairs.append((s, q, *lead, oks[0]))
    w = [focused(mean, q, s) for s, q, *_ in pairs]
    print(
        f"\nLeader decisions with exactly one leader right: {len(pairs)} (same-script right: {sum(p[4] for p in pairs)})"
    )
    print(f"  weighted mean right: {sum((w[k][p[2]] >= w[k][p[3]]) == p[4] for k, p in enumerate(pairs))}")
    for gap in (-0.1, -0.05, 0.0, 0.05, 0.1):
        got = sum((q.raw[USE][i] >= q.raw[USE][j] + gap) == ok for _, q, i, j, ok in pairs)
        print(f"  raw USE, other script {gap:+.2f}: {got}")
    fits = [
        (
            sum((q.raw[USE][i] - q.raw[USE][j] + a * q.raw[BM25][i] > t) == ok for _, q, i, j, ok in pairs),
            a,
            t,
        )
        for a in np.arange(0, 2.01, 0.1)
        for t in np.arange(-0.3, 0.3, 0.01)
    ]
    best = max(fits)
    print(
        f"  best linear boundary, fitted on every set: {best[0]} (USE lead + {best[1]:.1f} x BM25 > {best[2]:.2f})"
    )
    # A learned decision (logistic regression, 9 features), fitted on six sets, tested on the seventh.
    feats = []
    for k, (s, q, i, j, _) in enumerate(pairs):
        u, b, same = q.raw[USE], q.raw[BM25], q.votes[BM25]
        su, xu = np.sort(u[same])[::-1], np.sort(u[~same])[::-1]
        bz = (b[i] - b[same].mean()) / (b[same].std() + 1e-6) / 5
        ml = q.cal[ML][i] if q.votes[ML][i] else 0.5
        lead = u[i] - (su[1] if len(su) > 1 and u[i] == su[0] else su[0])
        xm = u[j] - xu[1] if len(xu) > 1 else 0.0
        zh = float(detect_lang(str(q.row["text"])) == "zh")
        feats.append(
            [u[i] - u[j], b[i], ml, bz, xm, lead, float(s.twins[j] >= 0), zh, w[k][i] - w[k][j], 1.0]
        )
    X, y = np.array(feats), np.array([p[4] for p in pairs], dtype=float)
    names = [s.name for s in sets]
    for l2 in (0.1, 1.0, 10.0):
        cells = []
        for h in names:
            tr = np.array([p[0].name != h for p in pairs])
            coef = np.zeros(X.shape[1])
            for _ in range(3000):
                pr = 1 / (1 + np.exp(-X[tr] @ coef))
                coef -= 0.5 * (X[tr].T @ (pr - y[tr]) + l2 * np.r_[coef[:-1], 0]) / tr.sum()
            got = ((X[~tr] @ coef > 0) == (y[~tr] > 0)).sum()
            base = sum((w[k][p[2]] >= w[k][p[3]]) == p[4] for k, p in enumerate(pairs) if p[0].name == h)
            cells.append(f"{h} {got} vs {base}/{(~tr).sum()}")
        print(f"  logistic, l2 {l2}: " + "; ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="also the bot's whole decision per rule (slower)")
    args = ap.parse_args()
    names = dev_sets()
    embedders = [CachedEmbedder(MiniLMEmbedder()), CachedEmbedder(MultilingualUSEEmbedder())]
    sets = collect(names, embedders)
    print(
        "| rule | "
        + " | ".join(names)
        + " | top-1 all | same-language | cross-lingual | answered right | out-of-scope below floor |"
    )
    print("|---|" + "---|" * (len(names) + 5))
    for label, rule in RULES.items():
        res = score(sets, rule)
        t = {k: sum(r[k] for r in res.values()) for k in ("top1", "n", "same", "xl", "right", "given", "oos")}
        cells = " | ".join(str(res[n]["top1"]) for n in names)
        print(
            f"| {label} | {cells} | {t['top1']}/{t['n']} | {t['same']} | {t['xl']} | {t['right']}/{t['given']} | {t['oos']} |"
        )
    leader_study(sets)
    print("\nLeave one set out (constants chosen on the other sets; argmax top-1 on the held-out one):")
    base = {n: r["top1"] for n, r in score(sets, mean).items()}
    for family, grid in {
        "shared evidence, USE gap": {g: shared(g) for g in (0.0, 0.025, 0.05, 0.075, 0.1, 0.15)},
        "linear boundary (a, t)": {
            (a, t): linear(a, t)
            for a in (0.0, 0.25, 0.5, 0.75, 1.0)
            for t in [float(x) for x in np.round(np.arange(-0.05, 0.21, 0.025), 3)]
        },
    }.items():
        per = {k: {n: r["top1"] for n, r in score(sets, rule).items()} for k, rule in grid.items()}
        cells = []
        for h in names:
            k = max(per, key=lambda k, h=h: sum(v for n, v in per[k].items() if n != h))
            cells.append(f"{h}: {per[k][h]} vs {base[h]} ({k})")
        print(f"  {family}: " + "; ".join(cells))
    if args.full:
        full(names, embedders)


def full(names: list[str], embedders: list[CachedEmbedder]) -> None:
    """The bot's whole decision per rule, one table row per set.  A rule's order goes in through
    the ``rrf`` hook (its confidence: the plain weighted mean); the rules get the calibrated
    scores only (``shared`` then compares calibrated USE: equal above USE's ceiling, same script wins)."""
    from parley.bots.evalsets import calibration_bins

    current: list[Callable[[Query, Set], Arr] | None] = [None]
    empty = Set("", [], np.zeros(0), [], [])
    keep_order, keep_fuse = R.rrf_order, R.weighted
    R.rrf_order = lambda scores, votes, w, k=60: np.argsort(  # type: ignore[assignment]
        -current[0](Query({}, scores, scores, votes), empty),
        kind="stable",  # type: ignore[misc]
    )
    R.weighted = lambda s, v, w, boost: weighted(s, v, w, boost=boost and current[0] is None)  # type: ignore[assignment]
    base = RetrievalConfig()
    runs = [
        ("weighted mean (default)", base, None),
        ("weighted mean, focus off (the index skips focus for rrf)", replace(base, focus=False), None),
        ("boost (BM25 only lifts)", replace(base, fusion="boost"), None),
        ("shared evidence: leaders on USE", replace(base, fusion="rrf"), shared(0.0)),
        ("per-query standardised mean", replace(base, fusion="rrf"), standardised),
    ]
    cols = ["top-1 EN", "top-1 ZH+mixed", "top-1 cross-lingual", "top-1 all", "baseline top-1 all",
            "declined answerable", "out-of-scope handed over", "out-of-scope answered", "traps handed over",
            "calibration: answers right"]  # fmt: skip
    try:
        for label, cfg, rule in runs:
            current[0] = rule
            print(
                f"\n#### {label}\n\n| set | "
                + " | ".join(cols)
                + " | right per band <.4 / .4-.5 / .5-.7 / .7+ |"
            )
            print("|---|" + "---|" * (len(cols) + 1))
            every = []
            for n in [*names, "total"]:
                outs = every if n == "total" else run_messages(load_set(UNSEEN_DIR / n), embedders, cfg)
                every += [] if n == "total" else outs
                m, bands = retrieval_metrics(outs), calibration_bins(outs)
                print(
                    f"| {n} | "
                    + " | ".join(str(m[c]) for c in cols)
                    + " | "
                    + " / ".join(map(str, bands.values()))
                    + " |"
                )
    finally:
        R.rrf_order, R.weighted = keep_order, keep_fuse


if __name__ == "__main__":
    main()
