"""Gmail's clip: the HTML is measured as it will be sent (quoted-printable, personalised
for the longest reader, every link grown by click tracking), and an edition over
``[digest] max_html_bytes`` leaves out its last items, which the run names."""

from __future__ import annotations

import email
import email.policy
import html
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import cli, cli_ok, rss_item, write_desk, write_rss
from mimecheck import check_message
from sqlalchemy import select
from stories import load_stories

from digest.compose.edition import Draft, DraftItem
from digest.config import load_config
from digest.deliver.clip import GMAIL_CLIP_BYTES, OPEN_PIXEL_BYTES, ClipMeasure, encoded_size
from digest.deliver.message import Outgoing, Recipient, build_message
from digest.deliver.mime import POLICY
from digest.render.email import Identity, Rendered, render
from digest.render.placeholders import Placeholders
from digest.run.rendering import LONGEST_NAME, clip_measure
from digest.run.report import left_out_note
from digest.settings import SegmentSettings
from digest.store.database import open_store
from digest.store.models import Article

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
IDENTITY = Identity("City Desk", "1 Harbour Street, 00100 Helsinki", ZoneInfo("Europe/Helsinki"))
SUMMARY = (
    "The council agreed on Tuesday to move money from road repairs to buses, bike lanes and "
    "the harbour ferry, after a debate that ran late into the night. Members said the "
    "change would shape the city’s budget for years, and the opposition promised a vote."
)
VALUES = {
    "name": LONGEST_NAME,
    "greeting": f"Hi {LONGEST_NAME},",
    "unsubscribe_url": "https://desk.example/digest/unsubscribe/" + "T" * 90,
    "preferences_url": "https://desk.example/digest/preferences/" + "T" * 90,
}


def large_draft(count: int) -> Draft:
    items = tuple(
        DraftItem(
            n,
            f"Story {n}: the council’s budget moves money from roads to buses",
            f"https://news.example/2026/11/26/story-{n}-the-councils-budget",
            "City Desk",
            "Ana Writer",
            NOW,
            ("politics",),
            SUMMARY,
            1.0,
            {},
            "",
            (("Other Outlet", f"https://other.example/{n}"),),
        )
        for n in range(1, count + 1)
    )
    return Draft(SegmentSettings(name="city"), items, None, NOW)


def test_the_encoded_size_is_the_html_parts_body_as_it_goes_over_smtp() -> None:
    html = '<p style="color:#111">Zoë = “quoted” 東京</p>\n' * 400 + "x" * 300
    rendered = Rendered("Subject", "", html, "Text", (), Placeholders.fresh())
    outgoing = Outgoing(1, "s", rendered, "Desk", "digest@desk.example", "", "<s.desk.example>")
    reader = Recipient(1, "ada@readers.example", "Ada", "https://d.example/u", "https://d/p", "")
    message = build_message(outgoing, reader, date="Thu, 26 Nov 2026 08:00:00 +0000")
    wire = message.as_bytes(policy=POLICY.clone(linesep="\r\n"))
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    part = parsed.get_body(("html",))
    assert part is not None and part["Content-Transfer-Encoding"] == "quoted-printable"
    html_part = wire[wire.index(b"Content-Type: text/html") :]
    body = html_part[html_part.index(b"\r\n\r\n") + 4 :]
    body = body[: body.index(b"\r\n--")]  # up to the CRLF that belongs to the boundary
    assert encoded_size(html) == len(body)
    assert encoded_size(html) > len(html.encode("utf-8")) * 1.2  # =3D, =E2=80=9C, soft breaks


def test_the_measure_fills_in_the_longest_reader_and_grows_each_tracked_link() -> None:
    placeholders = Placeholders.fresh()
    page = placeholders.of("html")
    html = (
        f'<p>Hello {page["name"]}</p><a href="https://news.example/1">One</a>'
        f'<a class="x" href=\'http://news.example/2\'>Two</a><a href="mailto:x@y">Mail</a>'
        f'<a href="{page["unsubscribe_url"]}">Leave</a>'
    )
    rendered = Rendered("Subject", "", html, "", (), placeholders)
    plain = ClipMeasure(10_000, VALUES, 0)
    tracked = ClipMeasure(10_000, VALUES, 100)

    filled = placeholders.fill(html, "html", VALUES)
    assert plain.size(rendered) == encoded_size(filled)
    assert "é" * 100 in filled and encoded_size(filled) > len(filled) + 5 * 100  # =C3=A9
    assert tracked.size(rendered) == plain.size(rendered) + 3 * 100 + OPEN_PIXEL_BYTES
    assert ClipMeasure(plain.size(rendered), VALUES, 0)(rendered)
    assert not ClipMeasure(plain.size(rendered) - 1, VALUES, 0)(rendered)


def test_a_large_edition_keeps_the_most_items_that_fit_and_leaves_out_the_rest() -> None:
    draft = large_draft(60)
    measure = ClipMeasure(90_000, VALUES, 100)

    rendered = render(draft, IDENTITY, fits=measure)

    kept = len(rendered.items)
    assert 1 < kept < 60
    assert rendered.items == draft.items[:kept] and rendered.left_out == draft.items[kept:]
    assert measure.size(rendered) <= 90_000
    one_more = render(Draft(draft.segment, draft.items[: kept + 1], None, NOW), IDENTITY)
    assert measure.size(one_more) > 90_000
    filled = rendered.placeholders.fill(rendered.html, "html", VALUES)
    for item in rendered.left_out:
        assert item.url not in filled
    # Raw UTF-8, as Digest measured before, says the one-more render fits well under 102 KB.
    assert len(one_more.html.encode("utf-8")) < measure.size(one_more) - 7_000
    assert render(draft, IDENTITY).left_out == ()  # without a measure, nothing left out


def test_one_item_too_large_is_sent_alone_rather_than_nothing() -> None:
    rendered = render(large_draft(3), IDENTITY, fits=ClipMeasure(1_000, VALUES, 0))
    assert len(rendered.items) == 1 and len(rendered.left_out) == 2


def test_the_runs_measure_takes_the_longest_token_for_the_segment(
    tmp_path: Path, database_url: str
) -> None:
    config = load_config(write_desk(tmp_path / "desk", {}, database_url, segment="a-long-name"))
    short = load_config(write_desk(tmp_path / "short", {}, database_url, segment="s"))
    measure = clip_measure(config, "a-long-name")
    url = measure.values["unsubscribe_url"]
    assert url.startswith("https://desk.example/digest/unsubscribe/")
    assert len(url) > len(clip_measure(short, "s").values["unsubscribe_url"])
    assert measure.values["name"] == LONGEST_NAME
    assert (measure.limit, measure.link_tracking) == (90_000, 100)


def write_large_feed(folder: Path) -> None:
    """25 real stories, one report of each (so that none clusters with another)."""
    reports = {a.story: a.entry for a in load_stories() if a.kind == "report"}
    assert len(reports) >= 25
    when = "{:%a, %d %b %Y} 08:00:00 GMT"
    items = (
        rss_item(
            html.escape(entry.title),
            f"https://news.example/story-{n}",
            when.format(datetime(2026, 11, n, tzinfo=UTC)),
            html.escape(" ".join(entry.text.split())),
        )
        for n, entry in enumerate(list(reports.values())[:25], start=1)
    )
    write_rss(folder, items)


def test_a_run_over_the_limit_names_the_items_it_left_out(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_desk(
        tmp_path / "desk",
        {"ada@readers.example": "Ada"},
        database_url,
        digest="max_html_bytes = 40000",
        more="max_items = 25\nsummary_words = 80",
        feed=write_large_feed,
    )
    output = cli_ok(capsys, "send", "--segment", "politics", "--config", str(config))

    found = re.search(r"left out (\d+) items to stay under Gmail's clip \(max_html_bytes\)", output)
    assert found, output
    left = re.findall(r"#(\d+) ['\"]", output)
    assert len(left) == int(found.group(1)) >= 2
    (path,) = (tmp_path / "desk" / "outbox").rglob("*.eml")
    message = check_message(path.read_bytes())
    part = message.get_body(("html",))
    assert part is not None
    sent = str(part.get_content())
    shown = set(re.findall(r'href="https://news\.example/story-(\d+)"', sent))
    assert len(shown) + len(left) == 25
    with open_store(load_config(config).database_url) as store, store.session() as session:
        urls = {id_: url for id_, url in session.execute(select(Article.id, Article.url))}
    for article in left:
        assert f'href="{urls[int(article)]}"' not in sent
    assert encoded_size(sent) <= 40_000


def test_max_html_bytes_above_gmails_clip_is_refused(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_desk(tmp_path / "desk", {}, database_url, digest="max_html_bytes = 150000")
    code, output = cli(capsys, "send", "--segment", "politics", "--config", str(config))
    assert code != 0
    assert f"[digest] max_html_bytes: must be above 0 and at most {GMAIL_CLIP_BYTES}" in output


def test_the_note_names_each_left_out_item_once_across_an_editions_renders() -> None:
    items = large_draft(4).items
    whole = Rendered("S", "", "", "", items[:2], left_out=items[2:])
    variant = Rendered("S", "", "", "", items[:3], left_out=items[3:])
    note = left_out_note([whole, variant, Rendered("S", "", "", "", items)])
    titles = "; ".join(f"#{i.article_id} {i.title!r}" for i in items[2:])
    assert note == f"left out 2 items to stay under Gmail's clip (max_html_bytes): {titles}"
    assert left_out_note([Rendered("S", "", "", "", items)]) == ""
