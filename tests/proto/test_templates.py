"""Templates: placeholders with fallbacks, cards and buttons, languages, validation codes (pure)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.proto.campaign import campaign_body, read_marker, read_tap, tap_body
from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.templates import (
    Button,
    Card,
    Content,
    Placeholder,
    Template,
    choose_language,
    parse_text,
    render,
    template_variables,
    validate,
)

KNOWN = {"first_name", "tier", "city", "count:purchase"}


def tpl(text: str, **more: Content) -> Template:
    return Template(versions={"en": Content(text=text), **more}, default="en")


def code_of(fn: object, *args: object) -> str:
    with pytest.raises(ProtocolError) as err:
        fn(*args)  # type: ignore[operator]
    return str(err.value.code.value if isinstance(err.value.code, ErrorCode) else err.value.code)


def test_placeholders_fill_from_values_and_fall_back() -> None:
    t = tpl("Hi {{ first_name | there }}, your {{tier}} coupon. {single} braces stay")
    assert render(t, {"first_name": "Ann", "tier": "gold"}, "en").text == (
        "Hi Ann, your gold coupon. {single} braces stay"
    )
    assert render(t, {"tier": "gold"}, None).text.startswith("Hi there, your gold")
    assert render(t, {"first_name": "", "tier": 3.0}, None).text.startswith("Hi there, your 3 coupon")


def test_a_missing_value_without_fallback_is_a_stable_code() -> None:
    t = tpl("Your {{tier}} coupon")
    assert code_of(render, t, {}, "en") == "template_value_missing"
    assert code_of(render, t, {"tier": None}, "en") == "template_value_missing"


def test_unknown_variables_are_refused_naming_each_sorted() -> None:
    t = Template(
        versions={
            "en": Content(text="Hi {{zeta}} {{first_name}}", quick_replies=[Button("q", "{{alpha|x}}")]),
            "de": Content(text="Hallo {{zeta}}", card=Card(title="{{beta}}")),
        },
        default="en",
    )
    with pytest.raises(ProtocolError) as err:
        validate(t, KNOWN)
    assert err.value.code == ErrorCode.TEMPLATE_VARIABLE_UNKNOWN
    assert err.value.message == "unknown variables: alpha, beta, zeta"
    assert template_variables(t) == {"alpha", "beta", "first_name", "zeta"}


@pytest.mark.parametrize(
    "text",
    ["Hi {{first_name", "Hi }} there", "{{ }}", "{{1abc}}", "{{a b}}", "{{a|x{y}}", "{{a|}} }}"],
)
def test_malformed_placeholders_are_template_invalid(text: str) -> None:
    assert code_of(validate, tpl(text), KNOWN) == "template_invalid"


@pytest.mark.parametrize(
    "template",
    [
        Template(versions={}, default="en"),
        Template(versions={"en": Content(text="x")}, default="fr"),
        Template(versions={"english!": Content(text="x")}, default="english!"),
        tpl("  "),
        tpl("x", fr=Content(text="y", buttons=[Button("a", "Go", "url")])),
        tpl("x", fr=Content(text="y", buttons=[Button("a", "Go"), Button("a", "Again")])),
        tpl("x", fr=Content(text="y", quick_replies=[Button("a", "Go", "url", "https://x.y")])),
        tpl("x", fr=Content(text="y", buttons=[Button(str(n), "b") for n in range(6)])),
        tpl("x", fr=Content(text="y", buttons=[Button("a", "x" * 41)])),
        tpl("x", fr=Content(text="y", buttons=[Button("a", "Go", "reply", "https://x.y")])),
        tpl("x", fr=Content(text="y", card=Card(title=" "))),
        tpl("x", fr=Content(text="y", card=Card(title="t", image="ftp://x"))),
    ],
)
def test_structural_problems_are_template_invalid(template: Template) -> None:
    assert code_of(validate, template, KNOWN) == "template_invalid"


def test_a_valid_template_passes_and_json_decoding_refuses_unknown_fields() -> None:
    raw = {
        "versions": {
            "en": {
                "text": "Hi {{first_name|there}}",
                "card": {"title": "{{city|Your city}} deals", "image": "https://cdn/x.png",
                         "buttons": [{"id": "shop", "label": "Shop", "action": "url", "url": "https://s/"}]},
                "quick_replies": [{"id": "stop", "label": "Stop", "action": "opt_out"}],
            },
            "zh-CN": {"text": "你好 {{first_name|朋友}}"},
        },
        "default": "en",
    }  # fmt: skip
    t = msgspec.json.decode(msgspec.json.encode(raw), type=Template)
    validate(t, KNOWN)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"versions": {}, "default": "en", "extra": 1}', type=Template)


def test_language_is_chosen_exactly_then_by_primary_then_default() -> None:
    versions = ["en", "zh-CN", "zh-TW", "pt-BR"]
    assert choose_language(versions, "zh-cn", "en") == "zh-CN"
    assert choose_language(versions, "zh", "en") == "zh-CN"
    assert choose_language(versions, "zh-HK", "en") == "zh-CN"
    assert choose_language(versions, "pt", "en") == "pt-BR"
    assert choose_language(versions, "fr", "en") == "en"
    assert choose_language(versions, None, "en") == "en"
    t = tpl("Hi {{first_name|there}}", **{"zh-CN": Content(text="你好 {{first_name|朋友}}")})
    assert render(t, {}, "zh").text == "你好 朋友"
    assert render(t, {}, "zh").language == "zh-CN"


def test_rendered_card_buttons_and_the_body_marker_round_trip() -> None:
    t = Template(
        versions={
            "en": Content(
                text="Hi {{first_name}}",
                card=Card(title="For {{first_name}}", buttons=[Button("shop", "Shop", "url", "https://s/")]),
                buttons=[Button("more", "More {{tier|}}")],
                quick_replies=[Button("stop", "Stop", "opt_out")],
            )
        },
        default="en",
    )
    rendered = render(t, {"first_name": "Ann", "tier": "gold"}, "en")
    body = campaign_body(rendered, campaign="cmp_1", variant="b", topic="marketing")
    assert body["text"] == "Hi Ann"
    marker = read_marker(body)
    assert marker is not None and (marker.id, marker.variant, marker.topic) == ("cmp_1", "b", "marketing")
    assert [b.label for b in marker.buttons] == ["More gold"]
    assert marker.card is not None and marker.card["title"] == "For Ann"
    shop = marker.button("shop")
    assert shop is not None and shop.url == "https://s/", "card buttons are found too"
    stop = marker.button("stop")
    assert stop is not None
    tap = read_tap(tap_body(marker, stop))
    assert tap is not None and (tap.campaign, tap.button, tap.action, tap.topic) == (
        "cmp_1", "stop", "opt_out", "marketing"
    )  # fmt: skip
    assert read_marker({"text": "plain"}) is None and read_marker("x") is None
    assert read_marker({"campaign": {"id": 3}}) is None
    assert read_tap({"text": "stop"}) is None


# ---------------------------------------------------------------- properties
names = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
literal = st.text(st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=20)
fallbacks = st.none() | st.text(
    st.characters(blacklist_characters="{}|", blacklist_categories=("Cs",)), max_size=10
)
parts = st.lists(st.one_of(literal, st.builds(Placeholder, names, fallbacks)), max_size=8)


def _format(items: list[str | Placeholder]) -> str:
    return "".join(
        p if isinstance(p, str) else "{{" + p.name + ("" if p.fallback is None else "|" + p.fallback) + "}}"
        for p in items
    )


@given(parts, st.dictionaries(names, st.text(max_size=15), max_size=5))
def test_render_fills_every_placeholder_once_and_never_rereads_values(
    items: list[str | Placeholder], values: dict[str, str]
) -> None:
    text = _format(items)
    parsed = parse_text(text)
    assert [p for p in parsed if isinstance(p, Placeholder)] == [
        Placeholder(p.name, None if p.fallback is None else p.fallback.strip())
        for p in items
        if isinstance(p, Placeholder)
    ]
    try:
        out = render(tpl(text or "x"), values, None).text
    except ProtocolError as exc:
        assert exc.code == ErrorCode.TEMPLATE_VALUE_MISSING
        assert any(
            isinstance(p, Placeholder) and p.fallback is None and not values.get(p.name) for p in items
        )
        return
    expected = "".join(
        p if isinstance(p, str) else (values[p.name] if values.get(p.name) else (p.fallback or "").strip())
        for p in items
    )
    assert out == (expected if text else "x")


@given(literal)
def test_text_without_placeholders_renders_to_itself(text: str) -> None:
    if text.strip():
        assert render(tpl(text), {}, None).text == text


@given(st.sets(names, max_size=6), st.sets(names, max_size=6))
def test_validation_refuses_exactly_the_unknown_names(used: set[str], known: set[str]) -> None:
    t = tpl("x " + " ".join("{{" + n + "|d}}" for n in sorted(used)))
    unknown = sorted(used - known)
    if unknown:
        with pytest.raises(ProtocolError) as err:
            validate(t, known)
        assert err.value.code == ErrorCode.TEMPLATE_VARIABLE_UNKNOWN
        assert err.value.message == "unknown variables: " + ", ".join(unknown)
    else:
        validate(t, known)
