"""The editors' desk engine, in one place for the web pages and the commands: the next
edition of a segment as a send would compose it (:mod:`digest.run.desk_view`), what an
editor changes in it (:mod:`digest.run.desk_actions`), test sends
(:mod:`digest.run.desk_tests`), approval (:mod:`digest.run.approval`), the log
(:mod:`digest.run.desk_log`) and the figures of the home and history pages
(:mod:`digest.run.overview`).
"""

from __future__ import annotations

from digest.run.approval import AlreadyDecidedError, NothingToSendError, approve, skip
from digest.run.desk_actions import (
    DeskInputError,
    edit,
    exclude,
    move,
    pin,
    set_note,
    set_subject,
    unpin,
)
from digest.run.desk_log import LogEntry, log
from digest.run.desk_mail import desk_url
from digest.run.desk_tests import TestSent, send_test
from digest.run.desk_view import (
    DRAFT,
    NOTHING_NEW,
    SENDING,
    SENT,
    WAITING,
    DeskItem,
    LeftOut,
    NextEditionView,
    ReaderGroup,
    next_edition,
)
from digest.run.fingerprint import StaleDraftError
from digest.run.holds import NothingWaitingError
from digest.run.overview import (
    EditionFigures,
    SegmentOverview,
    UnknownEditionError,
    edition,
    history,
    overview,
)

__all__ = [
    "DRAFT",
    "NOTHING_NEW",
    "SENDING",
    "SENT",
    "WAITING",
    "AlreadyDecidedError",
    "DeskInputError",
    "DeskItem",
    "EditionFigures",
    "LeftOut",
    "LogEntry",
    "NextEditionView",
    "NothingToSendError",
    "NothingWaitingError",
    "ReaderGroup",
    "SegmentOverview",
    "StaleDraftError",
    "TestSent",
    "UnknownEditionError",
    "approve",
    "desk_url",
    "edit",
    "edition",
    "exclude",
    "history",
    "log",
    "move",
    "next_edition",
    "overview",
    "pin",
    "send_test",
    "set_note",
    "set_subject",
    "skip",
    "unpin",
]
