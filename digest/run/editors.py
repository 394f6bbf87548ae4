"""The editors who may sign in to the desk: add, list, remove, and check a password.

Passwords are hashed with Argon2 (pwdlib's recommended hasher); a hash made with older
parameters is replaced on the next sign-in. An address is kept as
:func:`subscribers.importer.normalise_email` gives it (lower case), so ``Ada@`` and
``ada@`` are one editor. Checking an unknown address costs as much as checking a known
one, so the time a sign-in takes does not say who is an editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from digest.clock import utcnow
from digest.errors import DigestError
from digest.store.database import Store
from digest.store.models import Editor
from subscribers.importer import normalise_email

MIN_PASSWORD = 8  # characters; NIST SP 800-63B's floor for a chosen password
MAX_PASSWORD = 1024  # characters; longer is refused before any hashing


class EditorError(DigestError):
    """An editor's address or password that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class EditorInfo:
    id: int
    email: str
    name: str
    created_at: datetime
    key: str  # changes when the editor is added again: sessions of the old one end


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not anybody's password")


def editor_address(raw: str) -> str:
    """The address as editors are kept, or EditorError saying why it is not one."""
    text = raw.strip()
    if not text:
        raise EditorError("give the editor's email address")
    try:
        return normalise_email(text)
    except ValueError as e:
        raise EditorError(f"{text[:80]!r} is not a valid email address: {e}") from None


def check_password(password: str) -> None:
    if not password:
        raise EditorError("the password is empty; choose one of at least 8 characters")
    if len(password) < MIN_PASSWORD:
        raise EditorError(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD}"
        )
    if len(password) > MAX_PASSWORD:
        raise EditorError(f"the password is longer than {MAX_PASSWORD} characters")
    if not password.strip():
        raise EditorError("the password is only spaces; choose another")


def _info(editor: Editor) -> EditorInfo:
    # Ids may be reused after a removal, and a log out ends the sessions opened before it.
    out = editor.signed_out_at.timestamp() if editor.signed_out_at else 0.0
    key = f"{editor.id}:{editor.created_at.timestamp():.6f}:{out:.6f}"
    return EditorInfo(editor.id, editor.email, editor.name, editor.created_at, key)


def _find(store: Store, address: str) -> Editor | None:
    with store.session() as session:
        found = session.scalar(select(Editor).where(func.lower(Editor.email) == address.lower()))
        if found is not None:
            session.expunge(found)
        return found


def add_editor(
    store: Store, email: str, password: str, name: str = "", now: datetime | None = None
) -> EditorInfo:
    """Add an editor; EditorError for a bad address or password, or one already added."""
    address = editor_address(email)
    check_password(password)
    if _find(store, address) is not None:
        raise EditorError(
            f"{address} is already an editor; `digest editors remove {address}` first "
            "to set a new password"
        )
    editor = Editor(
        email=address,
        name=" ".join(name.split())[:200],
        password_hash=_hasher().hash(password),
        created_at=now or utcnow(),
    )
    try:
        with store.session() as session:
            session.add(editor)
    except IntegrityError:  # added by another process since we looked
        raise EditorError(f"{address} is already an editor") from None
    return _info(editor)


def list_editors(store: Store) -> list[EditorInfo]:
    with store.session() as session:
        return [_info(e) for e in session.scalars(select(Editor).order_by(Editor.email))]


def remove_editor(store: Store, email: str) -> bool:
    """Remove an editor (their sessions end at their next request); False if not one."""
    address = editor_address(email)
    with store.session() as session:
        gone = session.execute(delete(Editor).where(func.lower(Editor.email) == address.lower()))
        return bool(getattr(gone, "rowcount", 0))


def sign_out_everywhere(store: Store, editor_id: int, now: datetime | None = None) -> None:
    """End every session of the editor: the key they carry no longer matches."""
    with store.session() as session:
        found = session.get(Editor, editor_id)
        if found is not None:
            found.signed_out_at = now or utcnow()


def editor_by_id(store: Store, editor_id: int) -> EditorInfo | None:
    with store.session() as session:
        found = session.get(Editor, editor_id)
        return None if found is None else _info(found)


def verify_editor(store: Store, email: str, password: str) -> EditorInfo | None:
    """The editor whose address and password these are, or None (same cost either way)."""
    try:
        address = editor_address(email)
    except EditorError:
        address = ""
    found = _find(store, address) if address and len(password) <= MAX_PASSWORD else None
    if found is None:
        _hasher().verify(password[:MAX_PASSWORD], _dummy_hash())
        return None
    try:
        valid, updated = _hasher().verify_and_update(password, found.password_hash)
    except PwdlibError:  # a hash this library does not know: nobody can sign in with it
        return None
    if not valid:
        return None
    if updated is not None:
        with store.session() as session:
            row = session.get(Editor, found.id)
            if row is not None:
                row.password_hash = updated
    return _info(found)
