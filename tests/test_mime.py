"""Every message Digest writes or sends is valid MIME however it was personalised, and
SpamAssassin finds nothing wrong with how it is built: a digest, a personalised digest
and a confirmation email, each checked in plain Python (``mimecheck``) and by Debian's
``spamassassin`` (local tests only)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import re
import shutil
import subprocess
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from helpers import EXAMPLE
from mimecheck import check_list_unsubscribe, check_message
from webtools import confirmations, open_site

from digest.cli import main
from digest.deliver.message import Outgoing, Recipient, build_message
from digest.render.email import Rendered, one_line
from digest.store.database import open_store

KINDS = ("digest", "personalised digest", "confirmation")
PERSONAL = "everything-weekly"


@pytest.fixture(scope="module")
def messages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One message of each kind from the example newsroom, as written to the outbox."""
    folder = tmp_path_factory.mktemp("mime") / "newsroom"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("outbox", "digest.db*"))
    config = folder / "digest.toml"
    marker = f"[segments.{PERSONAL}]\n"
    body = config.read_text(encoding="utf-8")
    config.write_text(body.replace(marker, marker + "personalised = true\n"), encoding="utf-8")
    main(["run", "--config", str(config)])
    outbox = folder / "outbox"
    found = {"digest": sorted((outbox / "politics-daily").rglob("*.eml"))[0].read_bytes()}
    for path in sorted((outbox / PERSONAL).rglob("*.eml")):
        if b"from the topics you follow" in path.read_bytes():
            found["personalised digest"] = path.read_bytes()
            break
    with open_store(f"sqlite:///{folder / 'digest.db'}") as store, open_site(config, store) as site:
        response = site.client.post(
            "/subscribe",
            data={"email": "new.reader@example.org", "lists": ["tech-weekly"], "name": "Nia"},
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while not confirmations(outbox, "new.reader@example.org") and time.monotonic() < deadline:
            time.sleep(0.05)
        (confirmation,) = confirmations(outbox, "new.reader@example.org")
        found["confirmation"] = confirmation.read_bytes()
    assert set(found) == set(KINDS)
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_message_is_valid_mime(messages: dict[str, bytes], kind: str) -> None:
    message = check_message(messages[kind])
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    unsubscribe_url, _ = check_list_unsubscribe(message)
    for part in message.iter_parts():  # personalised: its render's placeholders all filled
        content = part.get_content()
        assert "%%" not in content
        assert (unsubscribe_url in content) == (kind != "confirmation")


def long_outgoing() -> tuple[Outgoing, Recipient]:
    """Everything as long as configs and readers can make it."""
    subject = "Ünïcode and a-very-long-unbreakable-word-" + "x" * 90 + " in the subject, " * 6
    rendered = Rendered(
        subject.strip(),
        "",
        "<p>" + "Ä long paragraph without any line break at all. " * 80 + "</p>",
        "Ä long paragraph without any line break at all. " * 80,
        (),
    )
    segment = "a-segment-with-a-name-far-longer-than-any-header-line-" + "s" * 60
    outgoing = Outgoing(
        1, segment, rendered, "Désk " * 20, "digest@desk.example", "", f"<{segment}.desk.example>"
    )
    token = "T" * 120
    base = "https://newsroom.example/a/rather/deep/path/for/the/digest"
    reader = Recipient(
        7,
        "reader@example.org",
        "Zoë Müller-Lüdenscheidt " * 5,
        f"{base}/unsubscribe/{token}",
        f"{base}/preferences/{token}",
        f"mailto:unsubscribe@newsroom.example?subject=unsubscribe%20{token}",
    )
    return outgoing, reader


def test_long_headers_fold_and_list_unsubscribe_stays_one_header_of_two_uris() -> None:
    outgoing, reader = long_outgoing()
    raw = build_message(outgoing, reader, date="Thu, 26 Nov 2026 08:00:00 +0000").as_bytes()
    message = check_message(raw)

    assert check_list_unsubscribe(message) == (reader.unsubscribe_url, reader.unsubscribe_mailto)
    assert str(message["Subject"]) == outgoing.rendered.subject
    # Python 3.11's own parser keeps the space between adjacent encoded words of a
    # display name, which RFC 2047 (and mail clients) drop: read it as they do.
    folded = email.message_from_bytes(raw, policy=email.policy.compat32)["To"]
    to = email.utils.parseaddr(str(make_header(decode_header(folded))))
    assert to == (one_line(reader.name, 100), reader.email)
    assert str(message["List-Id"]) == outgoing.list_id
    lines = raw.decode("ascii").splitlines()
    # Folded between the two URIs, each whole: the https one on the header's first line.
    at = lines.index(f"List-Unsubscribe: <{reader.unsubscribe_url}>,")
    assert lines[at + 1] == f" <{reader.unsubscribe_mailto}>"
    assert lines[at + 2].startswith("List-Unsubscribe-Post:")
    assert f"List-Id: {outgoing.list_id}" in lines
    subject_lines = lines[lines.index(next(x for x in lines if x.startswith("Subject:"))) :]
    assert subject_lines[1].startswith(" ")  # folded, not one line


def test_short_list_unsubscribe_uris_share_one_line() -> None:
    outgoing, reader = long_outgoing()
    short = reader._replace(
        unsubscribe_url="https://n.example/u/T", unsubscribe_mailto="mailto:u@n.example"
    )
    message = build_message(outgoing, short, date="Thu, 26 Nov 2026 08:00:00 +0000")
    raw = message.as_bytes()
    check_message(raw)
    assert b"\nList-Unsubscribe: <https://n.example/u/T>, <mailto:u@n.example>\n" in raw
    with pytest.raises(ValueError):  # exactly one List-Unsubscribe, never two
        message["List-Unsubscribe"] = "<https://other.example/>"


# --- SpamAssassin ---

SPAMASSASSIN = shutil.which("spamassassin")
REQUIRED = "DIGEST_REQUIRE_SPAMASSASSIN"  # set by .ci/run: in CI the test must run
MAX_SCORE = 1.0
# The rules about how a message is built rather than what it says: MIME structure and
# transfer encodings (MIME_*, MPART_*, MULTIPART_*, BASE64_LENGTH_*, CTE_8BIT_MISMATCH,
# PP_MIME_FAKE_ASCII_TEXT, *CHARSET_FARAWAY*), header syntax and encoding (MISSING_*,
# INVALID_*, MSGID_*, BAD_ENC_HEADER, SUBJECT_NEEDS_ENCODING, *_EXCESS_BASE64/QP,
# HEADER_COUNT_*, TO_MALFORMED, TO_NO_BRKTS_*, DATE_IN_*), over-long lines (*LONG_LINE*,
# LONGLN_*) and HTML structure and hidden or low-contrast text (HTML_*, *_LOW_CONTRAST,
# *INVIS*). HTML_MESSAGE only says that there is an HTML part (0 points). Rules about the
# words (LOTS_OF_MONEY on a story about budgets) count in the total only.
FORMAT_RULE = re.compile(
    r"(?:T_)?(?:MIME_\w+|MPART_\w+|MULTIPART_\w+|BASE64_LENGTH_\w+|CTE_8BIT_MISMATCH"
    r"|PP_MIME_FAKE_ASCII_TEXT|\w*CHARSET_FARAWAY\w*|MISSING_\w+|INVALID_\w+|MSGID_\w+"
    r"|BAD_ENC_HEADER|SUBJECT_NEEDS_ENCODING|\w+_EXCESS_(?:BASE64|QP)|HEADER_COUNT_\w+"
    r"|TO_MALFORMED|TO_NO_BRKTS_\w+|DATE_IN_\w+|\w*LONG_?LINE\w*|LONGLN_\w+"
    r"|HTML_(?!MESSAGE$)\w+|\w+_LOW_CONTRAST|\w*INVIS\w*|EMPTY_MESSAGE|NO_HEADERS_MESSAGE)"
)


def spamassassin(raw: bytes, home: Path) -> tuple[float, list[str]]:
    """SpamAssassin's score and rules for ``raw``, with local tests only and no Bayes."""
    if SPAMASSASSIN is None:
        if os.environ.get(REQUIRED) == "1":
            pytest.fail(f"spamassassin is not installed and {REQUIRED}=1: apt-get install it")
        pytest.skip("spamassassin is not installed (apt-get install spamassassin)")
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [SPAMASSASSIN, "-L", "--cf", "use_bayes 0", "--cf", "use_auto_whitelist 0"],
        input=raw,
        capture_output=True,
        env={**os.environ, "HOME": str(home)},  # its per-user files stay in the test's folder
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    checked = email.message_from_bytes(result.stdout, policy=email.policy.default)
    status = " ".join(str(checked.get("X-Spam-Status", "")).split())
    found = re.search(r"score=(-?[\d.]+) .*?tests=(.*?)(?: \w+=|$)", status)
    assert found, f"spamassassin did not report: {status!r} {result.stderr[-500:]!r}"
    rules = [r for r in found.group(2).replace(" ", "").split(",") if r not in ("", "none")]
    return float(found.group(1)), rules


def test_the_rule_list_catches_what_it_is_meant_to() -> None:
    caught = (
        "MIME_QP_LONG_LINE",
        "HTML_FONT_LOW_CONTRAST",
        "LONGLN_LOW_CONTRAST",
        "MPART_ALT_DIFF",
    )
    assert all(FORMAT_RULE.fullmatch(rule) for rule in (*caught, "FONT_INVIS_MSGID"))
    assert not any(FORMAT_RULE.fullmatch(r) for r in ("HTML_MESSAGE", "LOTS_OF_MONEY", "NO_RELAYS"))


@pytest.mark.spamassassin
@pytest.mark.parametrize("kind", KINDS)
def test_spamassassin_finds_no_format_rule_and_scores_under_one(
    messages: dict[str, bytes], kind: str, tmp_path: Path
) -> None:
    score, rules = spamassassin(messages[kind], tmp_path / "home")
    assert "NO_RELAYS" in rules  # it ran its rules: a message written here has no relays
    assert [rule for rule in rules if FORMAT_RULE.fullmatch(rule)] == [], rules
    assert score < MAX_SCORE, (score, rules)


def test_spamassassin_is_skipped_only_outside_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(globals(), "SPAMASSASSIN", None)
    monkeypatch.setenv(REQUIRED, "1")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        spamassassin(b"", tmp_path)
    monkeypatch.delenv(REQUIRED)
    with pytest.raises(pytest.skip.Exception):
        spamassassin(b"", tmp_path)
