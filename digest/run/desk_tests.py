"""Send the next edition of a segment as a test: to the editor, or a few addresses they
type, with the subject prefixed "[Test] ", through the configured backend.

A test is never an edition: nothing goes into the ledger and no figure counts it. Its
links are real but signed for no subscriber (see :mod:`digest.run.desk_mail`); the outbox
backend writes it under ``<outbox>/tests/<segment>/``. Every test send is logged with its
addresses and time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from digest.clock import utcnow
from digest.config import Config
from digest.deliver.recipients import Topics, variant_draft
from digest.errors import DigestError
from digest.render.email import one_line
from digest.run.desk_actions import DeskInputError
from digest.run.desk_log import TEST_SEND, write_log
from digest.run.desk_mail import TESTS, outbox_folder, send_desk_mail
from digest.run.desk_view import compose_next
from digest.run.rendering import render_draft
from digest.store.database import Store
from subscribers.importer.addresses import normalise_email

PREFIX = "[Test] "


@dataclass(frozen=True)
class TestSent:
    __test__ = False  # not a test class, whatever its name

    addresses: tuple[str, ...]
    backend: str
    at: datetime
    subject: str = ""
    folder: str = ""  # where the outbox backend wrote it; "" for SMTP and SendGrid


def addresses_for_test(config: Config, editor: str, addresses: Sequence[str]) -> tuple[str, ...]:
    """The addresses a test goes to: those given (at most ``[desk] test_recipients``), or
    the editor's own."""
    given = [a for a in (a.strip() for a in addresses) if a] or [editor]
    found: list[str] = []
    for address in given:
        try:
            normal = normalise_email(address)
        except ValueError as e:
            raise DeskInputError(
                f"{one_line(address, 80)!r} is not an email address: {e}"
            ) from None
        if normal not in found:
            found.append(normal)
    limit = config.desk.test_recipients
    if len(found) > limit:
        raise DeskInputError(
            f"a test goes to at most {limit} addresses ([desk] test_recipients); "
            f"{len(found)} were given"
        )
    return tuple(found)


def send_test(
    store: Store,
    config: Config,
    segment: str,
    editor: str,
    addresses: Sequence[str] = (),
    now: datetime | None = None,
    *,
    group: Topics | None = None,
) -> TestSent:
    """Send the segment's next edition, as the readers of ``group`` get it (None: the whole
    edition), to ``addresses`` or the editor."""
    now = now or utcnow()
    settings = config.segment(segment)
    to = addresses_for_test(config, editor, addresses)
    with store.session() as session:
        draft = compose_next(session, config, settings, now)
    shown = draft if group is None else variant_draft(draft, group)
    if not shown.items:
        raise DigestError(f"nothing to test: {segment}'s next edition has no items yet")
    rendered = render_draft(config, shown, group or ())
    rendered = replace(rendered, subject=one_line(PREFIX + rendered.subject))
    backend, outcome = send_desk_mail(store, config, TESTS, segment, rendered, to)
    if outcome.failed:
        reasons = "; ".join(sorted(set(outcome.failed.values())))
        raise DigestError(
            f"test not sent to {len(outcome.failed)} of {len(to)} addresses: {reasons}"
        )
    folder = str(outbox_folder(config, TESTS, segment)) if backend == "outbox" else ""
    with store.session() as session:
        where = f" ({folder})" if folder else ""
        line = f"sent a test to {', '.join(to)} through {backend}{where}"
        write_log(session, segment, editor, TEST_SEND, line, now)
    return TestSent(to, backend, now, rendered.subject, folder)
