"""Content is data (DESIGN decision 8): feed text that looks like a per-recipient
placeholder stays text in every reader's message, on every backend; each reader's values
are escaped for the place they land in; editions recorded before placeholders were chosen
per render still send."""

from __future__ import annotations

import contextlib
import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from bs4 import BeautifulSoup
from helpers import Inbox, cli_ok, free_port, rss_item, write_city_feed, write_desk, write_rss
from mimecheck import check_list_unsubscribe, check_message
from sendgrid_standin import SendGridStandIn
from sqlalchemy import select, text

from digest.cli import main
from digest.compose.edition import Draft, DraftItem
from digest.deliver.message import Outgoing, Recipient, build_message, personalise
from digest.deliver.sendgrid import request_json
from digest.render.email import Identity, Rendered, render
from digest.render.inbox import SUBJECT_LIMIT, cut
from digest.render.placeholders import Placeholders
from digest.settings import SegmentSettings
from digest.store.database import MIGRATIONS, Store, make_engine
from digest.store.models import Delivery, DeliveryStatus, Edition, EditionStatus

SEGMENT = "politics"
BASE_URL = "https://desk.example/digest"
FORGED = "%%name%% %%name_html%% %%unsubscribe_url%% %%preferences_url%%"
TITLE = f"Leaked list: {FORGED}"
SUBJECT = cut(TITLE, SUBJECT_LIMIT)  # the default subject: the top headline, cut
assert "%%unsubscribe_url%%" in SUBJECT
PEOPLE = {
    "ada@readers.example": 'Ada "Bobby" O\'Brien"><script>alert(1)</script>',
    "grace@readers.example": "Grace <b>Hopper</b> & Sons",
    "alan@readers.example": "Alan Turing",
}


def write_hostile_feed(folder: Path) -> None:
    """One article whose title and text hold every placeholder Digest ever used."""
    text = (
        f"The council read out {FORGED} in public. \\\n"
        "Members said the list would shape the budget for years."
    )
    leak = "https://news.example/politics/leak"
    write_rss(folder, [rss_item(TITLE, leak, "Mon, 02 Nov 2026 08:00:00 GMT", text)])


def write_newsroom(folder: Path, database_url: str, smtp_port: int, *, hostile: bool) -> Path:
    tables = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\ntimeout = 10\n\n'
        "[sendgrid]\ntimeout = 5"
    )
    return write_desk(
        folder,
        PEOPLE,
        database_url,
        digest='backend = "outbox"\nbatch_size = 2',
        more=tables,
        feed=write_hostile_feed if hostile else write_city_feed,
    )


@dataclass(frozen=True)
class Read:
    """One reader's message as the reader sees it."""

    address: str
    text: str
    html: str
    unsubscribe_url: str


def read_eml(raw: bytes) -> Read:
    message = check_message(raw)
    unsubscribe_url, _ = check_list_unsubscribe(message)
    return Read(
        str(message["To"].addresses[0].addr_spec),
        _body(message, "plain"),
        _body(message, "html"),
        unsubscribe_url,
    )


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def read_sendgrid(standin: SendGridStandIn) -> list[Read]:
    """Each personalization as SendGrid delivers it: every substitution key replaced."""
    reads = []
    for request in standin.accepted:
        for personalization in request.body["personalizations"]:
            plain, page = (c["value"] for c in request.body["content"])
            for key, value in personalization["substitutions"].items():
                plain, page = plain.replace(key, value), page.replace(key, value)
            header = personalization["headers"]["List-Unsubscribe"]
            unsubscribe_url = header.split(">")[0].removeprefix("<")
            reads.append(Read(personalization["to"][0]["email"], plain, page, unsubscribe_url))
    return reads


def flat(text: str) -> str:
    """``text`` with its lines joined, as a reader reads wrapped text."""
    return " ".join(text.split())


@pytest.mark.parametrize("backend", ["outbox", "smtp", "sendgrid"])
def test_feed_text_never_becomes_a_readers_link_or_name(
    backend: str,
    tmp_path: Path,
    database_url: str,
    inbox: tuple[Inbox, int],
    sendgrid: SendGridStandIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp, port = inbox
    config = write_newsroom(tmp_path / "desk", database_url, port, hostile=True)
    cli_ok(capsys, "send", "--segment", SEGMENT, "--backend", backend, "--config", str(config))

    if backend == "outbox":
        reads = [read_eml(p.read_bytes()) for p in (tmp_path / "desk" / "outbox").rglob("*.eml")]
    elif backend == "smtp":
        reads = [read_eml(raw) for raw in smtp.received]
    else:
        reads = read_sendgrid(sendgrid)
    assert sorted(r.address for r in reads) == sorted(PEOPLE)
    for read in reads:
        name = PEOPLE[read.address]
        token = read.unsubscribe_url.rpartition("/")[2]
        assert len(token) > 20 and read.unsubscribe_url.startswith(BASE_URL + "/unsubscribe/")
        # The article reads as the feed wrote it; the reader's link is only in the footer.
        assert TITLE in read.text and f"read out {FORGED} in public" in flat(read.text)
        assert read.text.count(token) == 2  # Unsubscribe: and Preferences:
        # Greeted by first name, once: the forged placeholders in the article stay text.
        first = name.split(" ")[0]
        assert f"Hi {first}," in read.text and read.text.count(first) == 1
        soup = BeautifulSoup(read.html, "html.parser")
        assert soup.find("script") is None
        assert read.html.count(token) == 2  # the footer's two links
        assert [a["href"] for a in soup.find_all("a") if token in a["href"]] == [
            read.unsubscribe_url,
            f"{BASE_URL}/preferences/{token}",
        ]
        assert soup.title is not None and soup.title.get_text() == SUBJECT
        # MJML repeats the subject in an attribute: the placeholders there stay text too.
        (wrapper,) = soup.find_all(attrs={"aria-roledescription": "email"})
        assert wrapper["aria-label"] == SUBJECT
        assert f"read out {FORGED} in public" in flat(soup.get_text())
        assert f"Hi {first}," in flat(soup.get_text())
        assert first not in read.html or first == html.escape(first)
        assert read.html.count(html.escape(first)) == 1


NAME = 'Ada "Bobby" O\'Brien"><script>alert(1)</script>\r\nBcc: eve@evil.example'
SHOWN = 'Ada "Bobby" O\'Brien"><script>alert(1)</script> Bcc: eve@evil.example'


def reader(unsubscribe_url: str = "https://desk.example/u/T?list=a&who=b") -> Recipient:
    return Recipient(
        7,
        "ada@readers.example",
        NAME,
        unsubscribe_url,
        "https://desk.example/p/T",
        "mailto:unsubscribe@desk.example?subject=unsubscribe%20T",
    )


def outgoing_with(html_body: str, text_body: str, placeholders: Placeholders) -> Outgoing:
    rendered = Rendered("Subject", "", html_body, text_body, (), placeholders)
    return Outgoing(3, SEGMENT, rendered, "City Desk", "digest@desk.example", "", "<p.desk>")


def test_a_name_is_escaped_for_html_text_attributes_plain_text_and_headers() -> None:
    placeholders = Placeholders.fresh()
    page, plain = placeholders.of("html"), placeholders.of("text")
    outgoing = outgoing_with(
        f"<p title=\"{page['name']}\" data-x='{page['name']}'>Hello {page['name']}</p>"
        f'<a href="{page["unsubscribe_url"]}">Unsubscribe</a>',
        f"Hello {plain['name']}\nUnsubscribe: {plain['unsubscribe_url']}\n",
        placeholders,
    )
    message = check_message(
        build_message(outgoing, reader(), date="Thu, 26 Nov 2026 08:00:00 +0000").as_bytes()
    )

    assert message.get_all("Bcc") is None
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == (SHOWN, "ada@readers.example")
    soup = BeautifulSoup(_body(message, "html"), "html.parser")
    assert soup.find("script") is None and soup.find("b") is None
    paragraph = soup.find("p")
    assert paragraph is not None
    assert paragraph["title"] == paragraph["data-x"] == SHOWN
    assert paragraph.get_text() == f"Hello {SHOWN}"
    link = soup.find("a")
    assert link is not None and link["href"] == "https://desk.example/u/T?list=a&who=b"
    assert "?list=a&amp;who=b" in _body(message, "html")
    assert _body(message, "plain") == f"Hello {SHOWN}\nUnsubscribe: {reader().unsubscribe_url}\n"


def test_sendgrid_gets_each_value_escaped_for_its_part_and_a_one_line_to_name() -> None:
    placeholders = Placeholders.fresh()
    page, plain = placeholders.of("html"), placeholders.of("text")
    outgoing = outgoing_with(f"<p>{page['name']}</p>", f"{plain['name']}", placeholders)
    (personalization,) = json.loads(request_json(outgoing, [reader()], 0))["personalizations"]

    assert personalization["to"] == [{"email": "ada@readers.example", "name": SHOWN}]
    values = personalization["substitutions"]
    assert values[page["name"]] == html.escape(SHOWN)
    assert values[plain["name"]] == SHOWN
    assert values[page["greeting"]] == values[plain["greeting"]] == "Hi Ada,"
    assert values[page["unsubscribe_url"]] == "https://desk.example/u/T?list=a&amp;who=b"
    assert values[plain["unsubscribe_url"]] == reader().unsubscribe_url
    assert all(key.endswith(f"_{placeholders.nonce}%%") for key in values)


def test_each_render_has_placeholders_of_its_own() -> None:
    first, second = Placeholders.fresh(), Placeholders.fresh()
    assert first.nonce != second.nonce
    assert set(first.of("html").values()).isdisjoint(second.of("html").values())
    # Another render's placeholders, as content, are left alone.
    body = f"{second.of('text')['name']} {first.of('text')['name']}"
    values = {"name": "Ada", "greeting": "", "unsubscribe_url": "", "preferences_url": ""}
    filled = first.fill(body, "text", values)
    assert filled == f"{second.of('text')['name']} Ada"
    with pytest.raises(ValueError):
        Placeholders("%%name%%")


def fixed(body: str, placeholders: Placeholders, part: str) -> str:
    """``body`` as Digest rendered it before placeholders had nonces."""
    names = {"text": "%%name%%", "html": "%%name_html%%"}
    tokens = placeholders.of("html" if part == "html" else "text")
    body = body.replace(tokens["name"], names[part])
    body = body.replace(tokens["greeting"], f"Hello {names[part]},")  # no greeting key then
    for key in ("unsubscribe_url", "preferences_url"):
        body = body.replace(tokens[key], f"%%{key}%%")
    return body


def test_an_edition_recorded_before_nonces_still_sends_with_its_fixed_placeholders(
    tmp_path: Path,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
) -> None:
    closed = free_port()  # nothing listens there
    config = write_newsroom(tmp_path / "desk", database_url, closed, hostile=False)
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    with contextlib.suppress(SystemExit):  # records the edition, then stops: SMTP is down
        main(["send", "--segment", SEGMENT, "--backend", "smtp", "--config", str(config)])
    capsys.readouterr()
    with store.session() as session:
        edition = session.scalars(select(Edition)).one()
        assert edition.status == EditionStatus.sending
        placeholders = Placeholders(edition.placeholder_nonce)
        old_html = fixed(edition.html, placeholders, "html")
        old_text = fixed(edition.text, placeholders, "text")
    assert "%%unsubscribe_url%%" in old_html and "%%name%%" in old_text

    # The store as Digest left it before the placeholder nonce (0012), with the edition as
    # it rendered it.
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    engine = make_engine(database_url)
    with engine.begin() as connection:
        alembic.attributes["connection"] = connection
        command.downgrade(alembic, "0012")
        connection.execute(
            text("UPDATE editions SET html = :html, text = :text"),
            {"html": old_html, "text": old_text},
        )
    engine.dispose()

    output = cli_ok(capsys, "resume", "--backend", "outbox", "--config", str(config))
    assert "resumed" in output, output
    reads = [read_eml(p.read_bytes()) for p in (tmp_path / "desk" / "outbox").rglob("*.eml")]
    assert sorted(r.address for r in reads) == sorted(PEOPLE)
    for read in reads:
        name = PEOPLE[read.address]
        assert "%%" not in read.text and "%%" not in read.html
        assert f"Hello {name}," in read.text
        assert f"Hello {html.escape(name)}," in read.html
        assert f"Unsubscribe: {read.unsubscribe_url}" in read.text
        assert f'href="{read.unsubscribe_url}"' in read.html
    with store.session() as session:
        assert session.scalar(select(Edition.placeholder_nonce)) == ""
        statuses = set(session.scalars(select(Delivery.status)))
        assert statuses == {DeliveryStatus.sent}


def test_a_template_written_with_the_fixed_placeholders_still_works(tmp_path: Path) -> None:
    """Templates of earlier versions wrote ``%%name%%``: in the template's own source it
    still means the reader's value, while the same text in an article stays text."""
    folder = tmp_path / "templates" / "email"
    folder.mkdir(parents=True)
    (folder / "digest.txt.j2").write_text(
        "Hi %%name%%: {{ items[0].title }}\nLeave: %%unsubscribe_url%%\n"
        "Prefs: %%preferences_url%%\n",
        encoding="utf-8",
    )
    (folder / "digest.mjml.j2").write_text(
        "<mjml><mj-body><mj-section><mj-column><mj-text>Hi %%name_html%%: {{ items[0].title }}"
        ' <a href="%%unsubscribe_url%%">Leave</a></mj-text></mj-column></mj-section></mj-body>'
        "</mjml>",
        encoding="utf-8",
    )
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    item = DraftItem(1, TITLE, "https://news.example/1", "Desk", "", now, (), "Text.", 1, {}, "")
    draft = Draft(SegmentSettings(name=SEGMENT), (item,), None, now)
    identity = Identity("City Desk", "1 Harbour Street", ZoneInfo("Europe/Helsinki"))
    rendered = render(draft, identity, tmp_path / "templates")
    ada = reader()

    assert personalise(rendered, ada, "text") == (
        f"Hi {SHOWN}: {TITLE}\nLeave: {ada.unsubscribe_url}\nPrefs: {ada.preferences_url}\n"
    )
    soup = BeautifulSoup(personalise(rendered, ada, "html"), "html.parser")
    assert f"Hi {SHOWN}: {TITLE} Leave" in flat(soup.get_text())
    assert [a["href"] for a in soup.find_all("a")] == [ada.unsubscribe_url]
