"""Email addresses: validation and normalisation (no DNS), the suppression hash, erasure.

``validate_email`` costs about 26 µs an address, most of it in the domain part. An import
of a million rows meets a few thousand domains, so the fast path checks the local part with
email-validator's own dot-atom pattern and validates each distinct domain once (cached).
Anything unusual (quotes, display names, non-ASCII local parts, over-long addresses, a bad
domain) goes through ``validate_email`` itself, so its rules and messages stay the only ones.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH

ERASED_PREFIX = "erased-"
ERASED_DOMAIN = "invalid"  # RFC 2606: never resolves, and email-validator refuses it


def email_hash(address: str) -> str:
    """The suppression key of an address: SHA-256 of its normalised form."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def erased_placeholder(subscriber_id: int) -> str:
    """The address kept in place of an erased one: unique, irreversible, never mailable."""
    return f"{ERASED_PREFIX}{subscriber_id}@{ERASED_DOMAIN}"


def is_erased(address: str) -> bool:
    return address.startswith(ERASED_PREFIX) and address.endswith("@" + ERASED_DOMAIN)


def normalise_email(address: str) -> str:
    """Validate syntax (no DNS) and return the address in lower case, or raise ValueError.

    Mailbox providers treat local parts case-insensitively, and one person must not become
    two subscribers because a list spelled them ``Ada@`` once and ``ada@`` the next time.
    """
    text = address.strip()
    local, at, domain = text.partition("@")
    if at and DOT_ATOM_TEXT.match(local):
        forms = _domain(domain)
        if forms is not None and len(local) + 1 + forms[1] <= EMAIL_MAX_LENGTH:
            return f"{local}@{forms[0]}".lower()
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError as e:
        raise ValueError(str(e)) from None
    return str(valid.normalized).lower()


@lru_cache(maxsize=65536)
def _domain(domain: str) -> tuple[str, int] | None:
    """The normalised domain and the longest UTF-8 length of its forms, or None if invalid."""
    try:
        valid = validate_email("a@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return None
    forms = (domain, str(valid.domain), str(valid.ascii_domain))
    return str(valid.domain), max(len(f.encode("utf-8")) for f in forms)


def ascii_address(address: str) -> str | None:
    """The address in ASCII, an internationalised domain as its IDNA A-labels; None when
    its local part is not ASCII (only SMTPUTF8 mail can carry it) or it is not valid."""
    if address.isascii():
        return address
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.ascii_email
