"""Normalising identifiers before they are stored or looked up (One ID).

* ``phone``: parsed by ``phonenumbers`` (the app's default region for numbers written without
  ``+country``), must be a valid number, stored in E.164 (``+14155550100``);
* ``email``: checked by ``email-validator`` (syntax only: no DNS look-up), stored lower-case;
* ``user``, ``union``, ``device``, ``cookie``: opaque, 1..256 printable characters, kept as given.

Anything else is refused with ``identifier_invalid`` (the value itself is never echoed: it is
personal data and would end up in logs).
"""

from __future__ import annotations

import email_validator
import phonenumbers

from parley.proto.errors import ErrorCode
from parley.server.audience_models import ID_KINDS, Identifier
from parley.server.errors import ServiceError

__all__ = ["MAX_ID_LENGTH", "normalise"]

#: Longest opaque identifier value, characters.
MAX_ID_LENGTH = 256


def _invalid(kind: str, why: str) -> ServiceError:
    return ServiceError(ErrorCode.IDENTIFIER_INVALID, f"{kind}: {why}")


def normalise(kind: str, value: object, default_region: str = "") -> Identifier:
    """The normalised identifier, or ``identifier_invalid`` saying what is wrong with it."""
    if kind not in ID_KINDS:
        raise _invalid(kind or "kind", f"unknown identifier kind; one of {list(ID_KINDS)}")
    if not isinstance(value, str) or not value.strip():
        raise _invalid(kind, "a non-empty string")
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, default_region or None)
        except phonenumbers.NumberParseException:
            raise _invalid(
                kind, "not a phone number (write +country or set the app's default_region)"
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise _invalid(kind, "not a valid phone number for its region")
        return Identifier(kind, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if kind == "email":
        try:
            checked = email_validator.validate_email(value, check_deliverability=False)
        except email_validator.EmailNotValidError:
            raise _invalid(kind, "not a valid email address") from None
        return Identifier(kind, checked.normalized.lower())
    if len(value) > MAX_ID_LENGTH or not value.isprintable():
        raise _invalid(kind, f"1..{MAX_ID_LENGTH} printable characters")
    return Identifier(kind, value)
