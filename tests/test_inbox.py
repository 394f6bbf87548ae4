"""What the inbox shows before the email is opened: the subject, the From name and the
preheader; and the headers every message of a list carries, the same through the outbox,
SMTP and SendGrid."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from helpers import Inbox, cli_ok, rss_item, write_desk, write_rss
from mimecheck import check_list_unsubscribe, check_message
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid_standin import SendGridStandIn, reserved_headers

from digest.compose.edition import Draft, DraftItem
from digest.deliver.headers import AUTO_REPLIES, feedback_id, list_headers, list_id
from digest.deliver.message import Outgoing, Recipient, build_message
from digest.deliver.sendgrid import request_json
from digest.render.email import Identity, Rendered, render, subject_of
from digest.render.inbox import PREHEADER_LIMIT, SUBJECT_LIMIT, cut, preheader_of
from digest.settings import SegmentSettings

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/Helsinki")
LONG = "Council Agrees a Four-Year Budget That Shifts Money From Roads to Buses and Bikes"
TITLES = (
    LONG,
    "Harbour Ferry Timetable Changes From Monday",
    "Library Opening Hours Extended Through the Winter Months, Council Says",
    "New Bridge Over the River Opens",
    "School Meals Get Cheaper",
)


def item(number: int, title: str, summary: str = "The council met on Tuesday.") -> DraftItem:
    url = f"https://news.example/story-{number}"
    return DraftItem(number, title, url, "City Desk", "", NOW, (), summary, 1.0, {}, "")


def draft(*titles: str, subject: str = "", editor_subject: str = "") -> Draft:
    segment = SegmentSettings(name="city-news", title="City News", subject=subject)
    items = tuple(item(n, title) for n, title in enumerate(titles, start=1))
    return Draft(segment, items, None, NOW, subject=editor_subject)


# --- the subject ---


def test_the_default_subject_is_the_top_headline_cut_at_a_word_boundary() -> None:
    subject = subject_of(draft(*TITLES), draft(*TITLES).items, ZONE)

    assert len(LONG) > SUBJECT_LIMIT and len(subject) <= SUBJECT_LIMIT
    assert subject.endswith("…")
    kept = subject.removesuffix("…")
    assert LONG.startswith(kept) and LONG[len(kept)] == " "  # whole words only
    assert len(kept) + len(" Shifts") >= SUBJECT_LIMIT  # and as many as fit
    assert "City News" not in subject  # the From name names the newsletter


def test_a_short_headline_is_the_whole_subject_and_one_long_word_is_cut() -> None:
    short = draft("Ferry Timetable Changes", "Another story")
    assert subject_of(short, short.items, ZONE) == "Ferry Timetable Changes"
    word = "Supercalifragilistic" * 5
    assert cut(word, SUBJECT_LIMIT) == word[: SUBJECT_LIMIT - 1] + "…"
    words = "Budget: roads, buses and more words " * 3
    assert cut(words, 21) == "Budget: roads, buses…"
    assert cut(words, 20) == "Budget: roads…"  # no dangling comma before the ellipsis
    assert cut("Budget, roads and buses", 15) == "Budget, roads…"


def test_a_subject_template_and_the_editors_subject_are_kept_as_written() -> None:
    template = draft(*TITLES, subject="{title}, {count} stories: {top_headline}")
    assert subject_of(template, template.items, ZONE) == f"City News, 5 stories: {LONG}"
    edited = draft(*TITLES, editor_subject="Our budget special")
    assert subject_of(edited, edited.items, ZONE) == "Our budget special"


# --- the preheader ---


def test_the_preheader_names_the_next_stories_cut_at_a_word_boundary() -> None:
    text = preheader_of(draft(*TITLES).items)

    assert text.startswith(f"Plus: {TITLES[1]} · ")
    assert len(text) <= PREHEADER_LIMIT
    assert LONG not in text  # the subject's story is not repeated
    shown = text.removeprefix("Plus: ").split(" · ")
    more = re.fullmatch(r"and (\d+) more", shown[-1])
    assert more is not None
    assert len(shown) - 1 + int(more.group(1)) == len(TITLES) - 1  # every other story counted
    for title in shown[:-1]:
        if title.endswith("…"):  # cut short: whole words of the headline
            cut_at = len(title) - 1
            assert title[:cut_at] in TITLES[3] or title[:cut_at] in TITLES[2]
            source = next(t for t in TITLES if t.startswith(title[:cut_at]))
            assert source[cut_at] == " "
        else:
            assert title in TITLES


def test_all_the_next_stories_when_they_fit_and_the_summary_of_a_lone_story() -> None:
    assert preheader_of(draft("Top", "Ferry", "Bridge").items) == "Plus: Ferry · Bridge"
    lone = (item(1, "Top", "Word " * 60),)
    assert preheader_of(lone) == cut("Word " * 60, PREHEADER_LIMIT)
    assert len(preheader_of(lone)) <= PREHEADER_LIMIT


def test_hidden_spacing_follows_the_preheader_so_the_body_stays_out_of_the_preview() -> None:
    identity = Identity("City Desk", "1 Harbour Street, Helsinki", ZONE)
    rendered = render(draft(*TITLES), identity)
    soup = BeautifulSoup(rendered.html, "html.parser")
    hidden = soup.find("div", style=re.compile(r"display:none"))
    assert hidden is not None
    text = hidden.get_text()
    assert text.startswith(rendered.preheader) and rendered.preheader.startswith("Plus: ")
    spacing = text.removeprefix(rendered.preheader)
    assert len(spacing) >= 300  # a preview pane shows about 200 characters
    assert set(spacing) == {"\u034f", "\u200c", "\xa0"}  # invisible, nothing to read
    assert "&#847;&zwnj;&nbsp;" * 100 in rendered.html
    assert "mso-hide:all" in hidden["style"] and "color" not in hidden["style"]


# --- the headers ---


def test_list_id_has_the_lists_name_as_a_quoted_phrase() -> None:
    assert list_id("Tech Weekly", "tech-weekly", "newsroom.example") == (
        '"Tech Weekly" <tech-weekly.newsroom.example>'
    )
    assert list_id('Say "hi"\r\nBcc: x', "s", "d.example") == r'"Say \"hi\" Bcc: x" <s.d.example>'
    assert list_id("", "s", "d.example") == "<s.d.example>"
    encoded = list_id("Wöchentlich", "w", "d.example")
    assert encoded.isascii() and encoded.endswith(" <w.d.example>")
    assert str(email.header.make_header(email.header.decode_header(encoded))).startswith(
        "Wöchentlich"
    )


def test_feedback_id_has_four_fields_without_colons_or_spaces() -> None:
    assert feedback_id(42, "tech-weekly", "The Newsroom: Tech") == (
        "42:tech-weekly:the-newsroom-tech:digest"
    )
    assert feedback_id(1, "x", "Ünïcode only ÄÖ") == "1:x:n-code-only:digest"
    assert feedback_id(1, "x", "東京") == "1:x:none:digest"


def test_no_header_of_a_list_is_one_sendgrid_reserves() -> None:
    headers = list_headers(1, "s", "Desk", "<s.d.example>")
    names = {*headers, "List-Unsubscribe", "List-Unsubscribe-Post"}
    assert not {name.lower() for name in names} & reserved_headers()
    assert "from" in reserved_headers() and "x-sg-id" in reserved_headers()


def test_sendgrid_refuses_a_reserved_header_as_the_stand_in_checks_it(
    sendgrid: SendGridStandIn,
) -> None:
    rendered = Rendered("Subject", "", "<p>Hi</p>", "Hi", ())
    outgoing = Outgoing(1, "s", rendered, "Desk", "digest@desk.example", "", "<s.desk.example>")
    reader = Recipient(1, "ada@readers.example", "", "https://d.example/u/T", "https://d/p", "")
    client = SendGridAPIClient("SG.test", host=sendgrid.url).client
    body = json.loads(request_json(outgoing, [reader], 0))
    client.mail.send.post(request_body=body)
    body["headers"]["Reply-To"] = "someone@else.example"
    with pytest.raises(HTTPError):
        client.mail.send.post(request_body=body)

    assert len(sendgrid.accepted) == 1
    ((status, refusal),) = sendgrid.rejected
    assert status == 400
    assert refusal["errors"] == [
        {
            "message": "The header Reply-To is reserved and may not be set.",
            "field": "headers",
            "help": None,
        }
    ]


PEOPLE = {"ada@readers.example": "Ada", "bob@readers.example": "Bob"}


def write_feed(folder: Path) -> None:
    """The stories of :data:`TITLES`, the first the top one."""
    when = "Mon, 0{} Nov 2026 08:00:00 GMT"
    items = (
        rss_item(title, f"https://news.example/{n}", when.format(n), "Text.")
        for n, title in enumerate(TITLES, start=1)
    )
    write_rss(folder, items)


def write_newsroom(folder: Path, database_url: str, smtp_port: int) -> Path:
    """Two segments on one list: one with a From name of its own, one without."""
    return write_desk(
        folder,
        PEOPLE,
        database_url,
        segment="politics",
        feed=write_feed,
        more=(
            'title = "Politics Daily"\nfrom_name = "Politics Daily from City Desk"\n\n'
            '[segments.evening]\nlists = ["politics"]\nlookback_days = 36500\n\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\ntimeout = 10\n\n'
            "[sendgrid]\ntimeout = 5\n"
        ),
    )


SEGMENTS = {  # segment → (From name, List-Id)
    "politics": ("Politics Daily from City Desk", '"Politics Daily" <politics.desk.example>'),
    "evening": ("City Desk", '"Evening" <evening.desk.example>'),
}


def sent_headers(message: EmailMessage) -> dict[str, list[str]]:
    names = ("List-Id", "Feedback-ID", "Auto-Submitted", "X-Auto-Response-Suppress")
    return {name: [str(v) for v in message.get_all(name, [])] for name in names}


@pytest.mark.parametrize("backend", ["outbox", "smtp", "sendgrid"])
def test_each_backend_sends_the_segments_from_name_and_the_same_list_headers(
    backend: str,
    tmp_path: Path,
    database_url: str,
    inbox: tuple[Inbox, int],
    sendgrid: SendGridStandIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp, port = inbox
    config = write_newsroom(tmp_path / "desk", database_url, port)
    for segment in SEGMENTS:
        cli_ok(capsys, "send", "--segment", segment, "--backend", backend, "--config", str(config))

    seen: dict[str, list[tuple[str, dict[str, list[str]], str]]] = {s: [] for s in SEGMENTS}
    if backend == "sendgrid":
        for request in sendgrid.accepted:
            body = request.body
            segment = body["custom_args"]["segment"]
            headers = {name: [value] for name, value in body["headers"].items()}
            assert set(headers) == {*AUTO_REPLIES, "List-Id", "Feedback-ID"}
            for personalization in body["personalizations"]:
                assert set(personalization["headers"]) == {
                    "List-Unsubscribe",
                    "List-Unsubscribe-Post",
                }
                seen[segment].append((body["from"]["name"], headers, body["subject"]))
    else:
        raws = (
            [p.read_bytes() for p in (tmp_path / "desk" / "outbox").rglob("*.eml")]
            if backend == "outbox"
            else smtp.received
        )
        for raw in raws:
            message = check_message(raw)
            check_list_unsubscribe(message)  # exactly one, with its one-click companion
            segment = str(message["List-Id"]).split("<")[1].split(".")[0]
            from_name = message["From"].addresses[0].display_name
            seen[segment].append((from_name, sent_headers(message), str(message["Subject"])))

    for segment, (from_name, list_header) in SEGMENTS.items():
        assert len(seen[segment]) == len(PEOPLE)
        for name, headers, subject in seen[segment]:
            assert name == from_name
            assert headers["List-Id"] == [list_header]
            assert headers["Auto-Submitted"] == ["auto-generated"]
            assert headers["X-Auto-Response-Suppress"] == ["OOF, AutoReply"]
            (feedback,) = headers["Feedback-ID"]
            edition, in_segment, sender, sender_id = feedback.split(":")
            assert int(edition) >= 1 and in_segment == segment and sender_id == "digest"
            assert sender == re.sub(r"[^a-z0-9]+", "-", from_name.lower())
            assert subject in {cut(title, SUBJECT_LIMIT) for title in TITLES}  # the top one


def test_a_message_refuses_a_second_copy_of_each_list_header() -> None:
    rendered = Rendered("Subject", "", "<p>Hi</p>", "Hi", ())
    outgoing = Outgoing(1, "s", rendered, "Desk", "digest@desk.example", "", '"S" <s.d.example>')
    reader = Recipient(1, "ada@readers.example", "", "https://d.example/u/T", "https://d/p", "")
    message = build_message(outgoing, reader, date="Thu, 26 Nov 2026 08:00:00 +0000")
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    for name in (*list_headers(1, "s", "Desk", "x"), "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert len(parsed.get_all(name, [])) == 1, name
        with pytest.raises(ValueError):
            message[name] = "again"
