"""Message templates of marketing sends: personalisation, rich cards, buttons, languages (pure).

A :class:`Template` holds one :class:`Content` per language (``versions``, keyed by a
BCP 47-like tag such as ``en`` or ``zh-CN``) and names its ``default`` language. Text
fields (the text, a card's title and text, button and quick-reply labels) may hold
placeholders::

    Hi {{ first_name | there }}, your {{ tier }} coupon is ready.

``{{ name }}`` is the recipient's value of ``name`` (a profile attribute, or one of the
names the caller supplies); ``{{ name | fallback }}`` uses ``fallback`` when the recipient
has no value. ``{{`` always opens a placeholder and ``}}`` always closes one; a single
brace is literal text. Values are inserted once, never re-read as template text, so a
value holding ``{{x}}`` is shown as written.

Who calls what:

* :func:`validate` when a template is created (the admin API): structure, limits and the
  variables against the names the app knows; raises :class:`~parley.proto.errors.ProtocolError`
  with ``template_invalid`` or ``template_variable_unknown`` (its message names every unknown
  variable, sorted), so nothing half-valid is stored.
* :func:`render` at send time, for one recipient: picks the version by the recipient's
  language (:func:`choose_language`) and fills the placeholders; a placeholder without a
  fallback whose value is missing raises ``template_value_missing`` (the send policy records
  it for that recipient instead of sending "Hi ,").

The message body a rendered template becomes, and how a client reads it back, is
:mod:`parley.proto.campaign`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from parley.proto.errors import ErrorCode, ProtocolError

__all__ = [
    "MAX_BUTTONS",
    "MAX_QUICK_REPLIES",
    "Button",
    "Card",
    "Content",
    "Placeholder",
    "Rendered",
    "RenderedButton",
    "Template",
    "choose_language",
    "parse_text",
    "render",
    "template_variables",
    "validate",
]

#: Call-to-action buttons on one message (or on its card).
MAX_BUTTONS = 5
#: Quick replies under one message.
MAX_QUICK_REPLIES = 10
#: Longest label of a button or quick reply, in characters (after rendering it may grow).
MAX_LABEL = 40
#: Languages of one template.
MAX_VERSIONS = 50

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}\Z")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}\Z")
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")

ButtonAction = Literal["url", "reply", "opt_out"]


class Button(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A call-to-action button or quick reply: ``url`` opens ``url``; ``reply`` answers with the
    label; ``opt_out`` withdraws the recipient's consent for the send's topic (one tap)."""

    id: str
    label: str
    action: ButtonAction = "reply"
    url: str = ""


class Card(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A rich card: title, text, an optional image URL and its own buttons."""

    title: str
    text: str = ""
    image: str = ""
    buttons: list[Button] = []


class Content(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One language's message: the text (always: every client can show it), an optional card,
    buttons and quick replies."""

    text: str
    card: Card | None = None
    buttons: list[Button] = []
    quick_replies: list[Button] = []


class Template(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A message in several languages; ``default`` names the version used when none matches."""

    versions: dict[str, Content]
    default: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``{{ name }}`` (``fallback`` None) or ``{{ name | fallback }}`` in a template text."""

    name: str
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedButton:
    """A button or quick reply with its label filled in."""

    id: str
    label: str
    action: str
    url: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template filled in for one recipient, in the language chosen for them."""

    language: str
    text: str
    card: dict[str, Any] | None
    buttons: tuple[RenderedButton, ...]
    quick_replies: tuple[RenderedButton, ...]


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.TEMPLATE_INVALID, message)


def parse_text(text: str) -> list[str | Placeholder]:
    """Split ``text`` into literal parts and placeholders; ``template_invalid`` if a ``{{`` is not
    closed, a ``}}`` was not opened, a name is malformed or a fallback holds a brace."""
    parts: list[str | Placeholder] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        stray = text.find("}}", pos, len(text) if start < 0 else start)
        if stray >= 0:
            raise _invalid(f"'}}}}' at {stray} closes no placeholder")
        if start < 0:
            if pos < len(text):
                parts.append(text[pos:])
            return parts
        end = text.find("}}", start + 2)
        if end < 0:
            raise _invalid(f"'{{{{' at {start} is never closed")
        if start > pos:
            parts.append(text[pos:start])
        parts.append(_placeholder(text[start + 2 : end], start))
        pos = end + 2


def _placeholder(inner: str, at: int) -> Placeholder:
    name, bar, fallback = inner.partition("|")
    name = name.strip()
    if not _NAME.match(name):
        raise _invalid(f"placeholder at {at}: {name!r} is not a variable name")
    if "{" in fallback or "}" in fallback:
        raise _invalid(f"placeholder at {at}: a fallback cannot hold a brace")
    return Placeholder(name, fallback.strip() if bar else None)


def _texts(content: Content) -> list[str]:
    texts = [content.text]
    if content.card is not None:
        texts += [content.card.title, content.card.text]
        texts += [b.label for b in content.card.buttons]
    texts += [b.label for b in content.buttons]
    texts += [q.label for q in content.quick_replies]
    return texts


def template_variables(template: Template) -> set[str]:
    """Every variable name the template's versions use (``template_invalid`` if a text is malformed)."""
    names: set[str] = set()
    for content in template.versions.values():
        for text in _texts(content):
            names.update(p.name for p in parse_text(text) if isinstance(p, Placeholder))
    return names


def _check_buttons(where: str, buttons: list[Button], limit: int, *, quick: bool) -> None:
    if len(buttons) > limit:
        raise _invalid(f"{where}: at most {limit}")
    seen: set[str] = set()
    for b in buttons:
        if not _ID.match(b.id):
            raise _invalid(f"{where}: id {b.id!r} must be 1-64 of A-Z a-z 0-9 _ . : -")
        if b.id in seen:
            raise _invalid(f"{where}: id {b.id!r} repeated")
        seen.add(b.id)
        if not b.label.strip() or len(b.label) > MAX_LABEL:
            raise _invalid(f"{where}: label of {b.id!r} must be 1-{MAX_LABEL} characters")
        if b.action == "url":
            if quick:
                raise _invalid(f"{where}: a quick reply answers in the chat; it cannot open a url")
            if not b.url.startswith(("https://", "http://")):
                raise _invalid(f"{where}: button {b.id!r} needs an http(s) url")
        elif b.url:
            raise _invalid(f"{where}: only a 'url' button has a url ({b.id!r})")


def _check_content(lang: str, content: Content) -> None:
    if not content.text.strip():
        raise _invalid(f"version {lang!r}: the text is empty")
    _check_buttons(f"version {lang!r} buttons", content.buttons, MAX_BUTTONS, quick=False)
    _check_buttons(f"version {lang!r} quick replies", content.quick_replies, MAX_QUICK_REPLIES, quick=True)
    card = content.card
    if card is not None:
        if not card.title.strip():
            raise _invalid(f"version {lang!r}: the card has no title")
        if card.image and not card.image.startswith(("https://", "http://")):
            raise _invalid(f"version {lang!r}: the card's image must be an http(s) url")
        _check_buttons(f"version {lang!r} card buttons", card.buttons, MAX_BUTTONS, quick=False)
    for text in _texts(content):
        parse_text(text)


def validate(template: Template, known: Collection[str]) -> None:
    """Raise ``template_invalid`` for a malformed template (no versions, an unknown default, a bad
    language tag, buttons over the limits or without a url, malformed placeholders), then
    ``template_variable_unknown`` naming (sorted) every variable not in ``known``."""
    if not template.versions:
        raise _invalid("a template needs at least one language version")
    if len(template.versions) > MAX_VERSIONS:
        raise _invalid(f"at most {MAX_VERSIONS} language versions")
    for lang, content in template.versions.items():
        if not _LANG.match(lang):
            raise _invalid(f"{lang!r} is not a language tag such as 'en' or 'zh-CN'")
        _check_content(lang, content)
    if template.default not in template.versions:
        raise _invalid(f"the default language {template.default!r} has no version")
    unknown = sorted(template_variables(template) - set(known))
    if unknown:
        raise ProtocolError(ErrorCode.TEMPLATE_VARIABLE_UNKNOWN, f"unknown variables: {', '.join(unknown)}")


def choose_language(versions: Collection[str], language: str | None, default: str) -> str:
    """The version for a recipient speaking ``language``: the same tag (case-insensitive), else one
    with the same primary language (``zh-TW`` for ``zh``; the first such tag in sorted order), else
    ``default``."""
    if language:
        wanted = language.lower()
        by_lower = {v.lower(): v for v in versions}
        if wanted in by_lower:
            return by_lower[wanted]
        primary = wanted.split("-", 1)[0]
        for tag in sorted(versions):
            if tag.lower().split("-", 1)[0] == primary:
                return tag
    return default


def _value_text(value: Any) -> str | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _fill(text: str, values: Mapping[str, Any]) -> str:
    out: list[str] = []
    for part in parse_text(text):
        if isinstance(part, str):
            out.append(part)
            continue
        value = _value_text(values.get(part.name))
        if value is None:
            if part.fallback is None:
                raise ProtocolError(
                    ErrorCode.TEMPLATE_VALUE_MISSING, f"no value for {part.name!r} and no fallback"
                )
            value = part.fallback
        out.append(value)
    return "".join(out)


def _buttons(buttons: list[Button], values: Mapping[str, Any]) -> tuple[RenderedButton, ...]:
    return tuple(RenderedButton(b.id, _fill(b.label, values), b.action, b.url) for b in buttons)


def render(template: Template, values: Mapping[str, Any], language: str | None) -> Rendered:
    """Fill ``template`` for one recipient whose variables are ``values`` and who speaks
    ``language`` (None: the default version). ``template_value_missing`` if a placeholder without
    a fallback has no value (missing, None, empty string or empty list count as no value)."""
    lang = choose_language(template.versions, language, template.default)
    content = template.versions[lang]
    card: dict[str, Any] | None = None
    if content.card is not None:
        c = content.card
        card = {"title": _fill(c.title, values), "text": _fill(c.text, values), "image": c.image}
        card["buttons"] = [
            {"id": b.id, "label": b.label, "action": b.action, **({"url": b.url} if b.url else {})}
            for b in _buttons(c.buttons, values)
        ]
    return Rendered(
        language=lang,
        text=_fill(content.text, values),
        card=card,
        buttons=_buttons(content.buttons, values),
        quick_replies=_buttons(content.quick_replies, values),
    )
