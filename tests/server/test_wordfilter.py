"""The sensitive-word matcher (pure): normalisation, word boundaries, unsegmented Chinese,
masking in original coordinates — examples for the traps, properties against a naive oracle."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from parley.server.wordfilter import WordMatcher, normalize

LISTS = {"en": ["ass", "bad word", "sex"], "zh": ["法轮功", "傻逼", "赌博"]}


def matcher(lists: dict[str, list[str]] = LISTS) -> WordMatcher:
    return WordMatcher([(w, name) for name, words in lists.items() for w in words])


def found(text: str, m: WordMatcher | None = None) -> list[tuple[str, str]]:
    return [(text[h.start : h.end], h.key) for h in (m or matcher()).find(text)]


def test_a_listed_english_word_inside_an_innocent_longer_word_does_not_match() -> None:
    for innocent in ["class", "assess", "passage", "Essex", "sextant", "bass guitar", "badword"]:
        assert found(innocent) == [], innocent
    assert found("you ass!") == [("ass", "en")]
    assert found("ASS-hat, sex.") == [("ASS", "en"), ("sex", "en")]
    assert found("a bad  word") == [], "the spaces of a phrase are part of it"
    assert found("such a bad word") == [("bad word", "en")]


def test_chinese_is_matched_as_substrings_of_unsegmented_text() -> None:
    assert found("他在练法轮功吗") == [("法轮功", "zh")]
    assert found("你个傻逼，别去赌博") == [("傻逼", "zh"), ("赌博", "zh")]
    # An English word next to Chinese characters has a boundary there.
    assert found("这个ass真的") == [("ass", "en")]


def test_full_width_and_case_are_folded() -> None:
    assert found("ＡＳＳ") == [("ＡＳＳ", "en")], "full-width letters"
    assert found("Ｓｅｘ") == [("Ｓｅｘ", "en")]
    assert found("ＢＡＤ　ＷＯＲＤ") == [("ＢＡＤ　ＷＯＲＤ", "en")], "an ideographic space is a space"
    assert matcher({"x": ["Café"]}).find("CAFE\u0301") != [], "composed and decomposed accents agree"
    assert found("a\u200bs\u200bs") == [("a\u200bs\u200bs", "en")], "zero-width characters are ignored"


def test_masking_replaces_exactly_the_matched_original_characters() -> None:
    m = matcher()
    assert m.mask("you ASS, 法轮功!") == "you ***, ***!"
    assert m.mask("ＡＳＳ") == "***"
    assert m.mask("class act") == "class act"
    assert m.mask("") == ""


def test_empty_and_blank_words_are_ignored() -> None:
    m = WordMatcher([("", "x"), ("   ", "x"), ("ok", "y")])
    assert [h.key for h in m.find("ok then")] == ["y"]
    assert WordMatcher([]).find("anything") == []


# ---------------------------------------------------------------- properties

latin_words = st.text(alphabet="abcxyz", min_size=1, max_size=4)
han_words = st.text(alphabet="法轮功赌博傻逼", min_size=1, max_size=3)
texts = st.text(alphabet="abcxyzABC 法轮功赌博傻逼ａｂｃ.,!\u200b", max_size=40)


def _is_word(c: str) -> bool:
    return (c.isalnum() or c == "_") and not ("\u4e00" <= c <= "\u9fff")


def oracle(text: str, word: str) -> bool:
    """Naive: normalise the whole text, search every position, check boundaries by regex."""
    norm = "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch != "\u200b")
    w = unicodedata.normalize("NFKC", word).casefold()
    for i in [m.start() for m in re.finditer(f"(?={re.escape(w)})", norm)]:
        before = norm[i - 1] if i > 0 else ""
        after = norm[i + len(w)] if i + len(w) < len(norm) else ""
        left_ok = not (_is_word(w[0]) and before and _is_word(before))
        right_ok = not (_is_word(w[-1]) and after and _is_word(after))
        if left_ok and right_ok:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(latin_words, han_words), min_size=1, max_size=4), texts)
def test_find_agrees_with_a_naive_oracle(words: list[str], text: str) -> None:
    m = WordMatcher([(w, w) for w in words])
    hits = {h.key for h in m.find(text)}
    for w in set(words):
        assert (w in hits) == oracle(text, w), (w, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(latin_words, han_words), min_size=1, max_size=4), texts)
def test_mask_keeps_length_and_leaves_nothing_to_find(words: list[str], text: str) -> None:
    m = WordMatcher([(w, w) for w in words])
    masked = m.mask(text)
    assert len(masked) == len(text)
    assert [i for i, (a, b) in enumerate(zip(text, masked, strict=True)) if a != b and b != "*"] == []
    assert m.find(masked) == []


@given(st.text(max_size=50))
def test_normalize_maps_every_output_char_to_an_input_position(text: str) -> None:
    norm, origin = normalize(text)
    assert len(norm) == len(origin)
    assert all(0 <= i < len(text) for i in origin)
    assert origin == sorted(origin)


def test_the_fast_path_knows_every_format_character_of_this_python() -> None:
    from parley.server.wordfilter import FORMAT_CHARS

    missing = [
        hex(c)
        for c in range(0x110000)
        if unicodedata.category(chr(c)) == "Cf" and not FORMAT_CHARS.match(chr(c))
    ]
    assert missing == []


@given(st.text(max_size=50))
def test_the_fast_path_agrees_with_the_slow_one(text: str) -> None:
    from parley.server import wordfilter

    fast = wordfilter.normalize(text)
    slow_text, slow_origin = [], []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        for ch in unicodedata.normalize("NFKC", text[i:j]).casefold():
            if unicodedata.category(ch) != "Cf":
                slow_text.append(ch)
                slow_origin.append(i)
        i = j
    assert fast == ("".join(slow_text), slow_origin)
