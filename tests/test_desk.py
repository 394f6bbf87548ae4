"""The desk's view of a segment's next edition and what editors change in it: composed as a
send composes it, and the changes carried by the real send and then used up."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from digest.compose.editor_choices import AlreadySentError, UnknownArticleError
from digest.config import Config, load_config
from digest.intake.ingest import ingest_all
from digest.run import desk
from digest.run.segments import run_segments
from digest.run.subscribers_file import merge_subscribers_file
from digest.store.database import Store
from digest.store.models import (
    Article,
    ArticleTag,
    Edition,
    EditionItem,
    EditorAction,
    EditorChoice,
    EditorEdit,
    EditorLog,
    NextEdition,
)

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
POLITICS = "politics-daily"
EDITOR = "ed@newsroom.example"


@pytest.fixture
def config(newsroom: Path, store: Store) -> Config:
    """The example newsroom with its subscribers merged and its feeds ingested."""
    loaded = load_config(newsroom)
    merge_subscribers_file(store, loaded, NOW)
    ingest_all(store, loaded, NOW)
    return loaded


def messages(config: Config, segment: str, edition_id: int) -> list[EmailMessage]:
    folder = config.outbox_dir / segment / f"edition-{edition_id}"
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())


def editions(store: Store, segment: str) -> list[Edition]:
    with store.session() as session:
        return list(
            session.scalars(select(Edition).where(Edition.segment == segment).order_by(Edition.id))
        )


def items_of(store: Store, edition_id: int) -> list[int]:
    with store.session() as session:
        return list(
            session.scalars(
                select(EditionItem.article_id)
                .where(EditionItem.edition_id == edition_id)
                .order_by(EditionItem.position)
            )
        )


def test_the_desk_shows_the_edition_a_send_sends_and_records_nothing(
    store: Store, config: Config
) -> None:
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    assert view.state == desk.DRAFT and view.title == "Politics Daily"
    assert [i.position for i in view.items] == list(range(1, len(view.items) + 1))
    assert all(i.reason and i.parts and i.url.startswith("https://") for i in view.items)
    assert view.left_out and all(out.reason and out.url for out in view.left_out)
    assert "Hello reader" not in view.text and "Hi reader" not in view.text  # nobody greeted
    assert view.items[0].title in view.html
    assert editions(store, POLITICS) == []  # the view recorded nothing

    (report,) = run_segments(store, config, "outbox", [POLITICS], now=NOW)
    (edition,) = editions(store, POLITICS)
    assert items_of(store, edition.id) == [i.article_id for i in view.items]
    assert edition.subject == view.subject
    assert report.written == report.recipients > 0
    later = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=5))
    assert later.state == desk.SENT and later.items == ()


def test_the_editors_changes_go_out_in_the_send_and_are_then_used_up(
    store: Store, config: Config
) -> None:
    first = desk.next_edition(store, config, POLITICS, now=NOW)
    below_the_cut = next(o for o in first.left_out if o.reason.startswith("below the cut"))
    second, third = first.items[1], first.items[2]

    assert "pinned #" in desk.pin(store, config, POLITICS, below_the_cut.url, EDITOR, NOW)
    desk.move(store, config, POLITICS, third.article_id, "up", EDITOR, NOW)
    desk.edit(store, config, POLITICS, second.article_id, "A headline of our own", "", EDITOR, NOW)
    desk.edit(store, config, POLITICS, third.article_id, "", "A summary of our own.", EDITOR, NOW)
    desk.set_note(store, config, POLITICS, "Good morning, **readers**.", EDITOR, NOW)
    desk.set_subject(store, config, POLITICS, "Our pick of the day", EDITOR, NOW)

    view = desk.next_edition(store, config, POLITICS, now=NOW)
    order = [i.article_id for i in view.items]
    assert order[:4] == [
        below_the_cut.article_id,
        first.items[0].article_id,
        third.article_id,
        second.article_id,
    ]
    by_id = {i.article_id: i for i in view.items}
    assert by_id[second.article_id].title == "A headline of our own"
    assert by_id[second.article_id].summary == second.summary  # "" kept the composed one
    assert by_id[third.article_id].summary == "A summary of our own."
    assert by_id[third.article_id].title == third.title
    assert [i.edited for i in view.items[:4]] == [False, False, True, True]
    assert view.items[0].pinned and not view.items[1].pinned
    assert view.subject == "Our pick of the day"
    assert view.note_html == "<p>Good morning, <strong>readers</strong>.</p>"
    assert "<strong>readers</strong>" in view.html and "Good morning, readers." in view.text
    again = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=1))
    assert [i.title for i in again.items] == [i.title for i in view.items]  # kept

    (report,) = run_segments(store, config, "outbox", [POLITICS], now=NOW)
    (edition,) = editions(store, POLITICS)
    assert items_of(store, edition.id) == order
    sent = messages(config, POLITICS, edition.id)
    assert len(sent) == report.recipients > 0
    for message in sent:
        assert message["Subject"] == "Our pick of the day"
        html, text = body(message, "html"), body(message, "plain")
        assert "<strong>readers</strong>" in html and "Good morning, readers." in text
        assert "A headline of our own" in html and "A headline of our own" in text
        assert "A summary of our own." in text
        assert text.index(below_the_cut.title) < text.index("A headline of our own")

    with store.session() as session:
        assert session.scalars(select(EditorEdit)).all() == []
        assert session.scalars(select(NextEdition)).all() == []
        assert session.scalars(select(EditorChoice)).all() == []
        claimed = session.scalars(select(EditorLog.edition_id)).all()
    assert claimed == [edition.id] * 6  # the changes that shaped it are its own
    assert [e.action for e in desk.log(store, POLITICS, edition_id=edition.id)] == [
        "subject",
        "note",
        "edit",
        "edit",
        "move",
        "pin",
    ]
    after = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(hours=1))
    assert after.note == "" and after.items == ()


def test_a_note_written_while_an_edition_is_recorded_waits_for_the_next(
    store: Store, config: Config
) -> None:
    """Only what the edition carried is used up."""
    desk.set_note(store, config, POLITICS, "Carried.", EDITOR, NOW)
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    assert view.note == "Carried."
    from digest.compose.editor_changes import consume_changes

    desk.set_note(store, config, POLITICS, "Written meanwhile.", EDITOR, NOW)
    with store.session() as session:
        consume_changes(session, POLITICS, [], note="Carried.", subject="")
    assert desk.next_edition(store, config, POLITICS, now=NOW).note == "Written meanwhile."


def test_hostile_note_headline_and_summary_stay_text(store: Store, config: Config) -> None:
    item = desk.next_edition(store, config, POLITICS, now=NOW).items[0]
    hostile = (
        "<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) "
        "</mj-text></mj-column><mj-raw><b>raw</b></mj-raw> {{ reader.name }} %%unsubscribe_url%%"
    )
    desk.set_note(store, config, POLITICS, hostile, EDITOR, NOW)
    desk.edit(
        store,
        config,
        POLITICS,
        item.article_id,
        "<i>Breaking</i> {% raw %}",
        "<script>steal()</script> & more",
        EDITOR,
        NOW,
    )
    desk.set_subject(store, config, POLITICS, "Hi\r\nBcc: victim@example.com", EDITOR, NOW)
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    for html in (view.html, view.note_html):
        assert "<script" not in html and "onerror" not in html and "javascript:" not in html
        assert "<mj-" not in html
    assert "&lt;script&gt;steal()&lt;/script&gt; &amp; more" in view.html
    assert "&lt;i&gt;Breaking&lt;/i&gt; {% raw %}" in view.html
    assert "<script>steal()</script> & more" in view.text  # plain text stays as written
    assert "{{ reader.name }} %%unsubscribe_url%%" in view.text
    assert view.subject == "Hi Bcc: victim@example.com"

    run_segments(store, config, "outbox", [POLITICS], now=NOW)
    (edition,) = editions(store, POLITICS)
    message = messages(config, POLITICS, edition.id)[0]
    assert message["Bcc"] is None and message["Subject"] == "Hi Bcc: victim@example.com"
    assert "<script" not in body(message, "html")
    assert "%%unsubscribe_url%%" in body(message, "plain")  # never filled in


def test_each_refusal_is_one_line_and_changes_nothing(store: Store, config: Config) -> None:
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    left = view.left_out[-1]
    with pytest.raises(UnknownArticleError, match="no stored article"):
        desk.pin(store, config, POLITICS, "https://nowhere.example/story", EDITOR, NOW)
    with pytest.raises(desk.DeskInputError, match="only its items move"):
        desk.move(store, config, POLITICS, left.article_id, "up", EDITOR, NOW)
    with pytest.raises(desk.DeskInputError, match='"up" or "down"'):
        desk.move(store, config, POLITICS, view.items[0].article_id, "sideways", EDITOR, NOW)
    with pytest.raises(desk.DeskInputError, match="headline may have at most 300"):
        desk.edit(store, config, POLITICS, view.items[0].article_id, "x" * 301, "", EDITOR, NOW)
    with pytest.raises(desk.DeskInputError, match="note may have at most"):
        desk.set_note(store, config, POLITICS, "x" * 10_001, EDITOR, NOW)
    first = view.items[0].article_id
    assert "already first" in desk.move(store, config, POLITICS, first, "up", EDITOR, NOW)
    assert desk.log(store, POLITICS) == []

    run_segments(store, config, "outbox", [POLITICS], now=NOW)
    with pytest.raises(AlreadySentError, match="a segment never sends an article twice"):
        desk.pin(store, config, POLITICS, str(first), EDITOR, NOW)
    said = desk.exclude(store, config, POLITICS, first, EDITOR, NOW)
    assert said.startswith("nothing to exclude:")
    with pytest.raises(AlreadySentError):
        desk.edit(store, config, POLITICS, first, "Too late", "", EDITOR, NOW)
    assert desk.log(store, POLITICS) == []


def test_exclude_and_unpin_are_logged_and_forgotten(store: Store, config: Config) -> None:
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    item = view.items[1]
    said = desk.exclude(store, config, POLITICS, item.article_id, EDITOR, NOW)
    assert said.startswith(f"excluded #{item.article_id}")
    after = desk.next_edition(store, config, POLITICS, now=NOW)
    assert item.article_id not in [i.article_id for i in after.items]
    (out,) = [o for o in after.left_out if o.article_id == item.article_id]
    assert out.reason == "excluded by the editor"
    assert after.fingerprint != view.fingerprint
    said = desk.unpin(store, config, POLITICS, item.article_id, EDITOR, NOW)
    assert said.startswith(f"forgot the exclusion of #{item.article_id}")
    restored = desk.next_edition(store, config, POLITICS, now=NOW)
    assert restored.fingerprint == view.fingerprint
    assert [e.action for e in desk.log(store, POLITICS, pending=True)] == ["unpin", "exclude"]
    assert all(e.editor == EDITOR and e.at == NOW for e in desk.log(store, POLITICS))


def test_a_pinned_article_the_segment_already_sent_is_left_out_and_says_where(
    store: Store, config: Config
) -> None:
    run_segments(store, config, "outbox", [POLITICS], now=NOW)
    (edition,) = editions(store, POLITICS)
    sent = items_of(store, edition.id)[0]
    with store.session() as session:  # a pin stored as the edition was being recorded
        session.add(
            EditorChoice(segment=POLITICS, article_id=sent, action=EditorAction.pin, created_at=NOW)
        )
    view = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(hours=1))
    (out,) = [o for o in view.left_out if o.article_id == sent]
    assert out.reason.startswith(f"already sent in edition {edition.id} (")


def test_the_fingerprint_follows_what_a_send_would_compose(store: Store, config: Config) -> None:
    view = desk.next_edition(store, config, POLITICS, now=NOW)
    later = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(minutes=30))
    assert later.fingerprint == view.fingerprint  # scores moved; the edition did not
    desk.set_subject(store, config, POLITICS, "Another subject", EDITOR, NOW)
    subject = desk.next_edition(store, config, POLITICS, now=NOW).fingerprint
    desk.set_note(store, config, POLITICS, "A note", EDITOR, NOW)
    note = desk.next_edition(store, config, POLITICS, now=NOW).fingerprint
    desk.move(store, config, POLITICS, view.items[1].article_id, "down", EDITOR, NOW)
    moved = desk.next_edition(store, config, POLITICS, now=NOW).fingerprint
    desk.edit(store, config, POLITICS, view.items[0].article_id, "", "Shorter.", EDITOR, NOW)
    edited = desk.next_edition(store, config, POLITICS, now=NOW).fingerprint
    assert len({view.fingerprint, subject, note, moved, edited}) == 5


def test_a_personalised_segment_shows_its_reader_groups_and_the_chosen_one(
    newsroom: Path, store: Store
) -> None:
    segment = "everything-weekly"
    text = newsroom.read_text(encoding="utf-8")
    marker = f"[segments.{segment}]\n"
    newsroom.write_text(text.replace(marker, marker + "personalised = true\n"), encoding="utf-8")
    config = load_config(newsroom)
    merge_subscribers_file(store, config, NOW)
    ingest_all(store, config, NOW)

    view = desk.next_edition(store, config, segment, now=NOW)
    assert view.groups and view.group is None
    assert [n for n, g in enumerate(view.groups) if g.topics is None] in ([], [0])
    sizes = [g.readers for g in view.groups if g.topics is not None]
    assert sizes == sorted(sizes, reverse=True)
    chosen = max((g for g in view.groups if g.topics), key=lambda g: g.readers)
    assert chosen.topics is not None
    shown = desk.next_edition(store, config, segment, group=chosen.topics, now=NOW)
    assert shown.group == chosen.topics and shown.fingerprint == view.fingerprint
    readers = run_segments(store, config, "outbox", [segment], now=NOW)[0].recipients
    assert sum(g.readers for g in view.groups) == readers
    assert "from the topics you follow: " + ", ".join(chosen.topics) in shown.text
    carried = [i for i in view.items if set(i.tags) & set(chosen.topics)]
    for item in view.items:
        assert (item.title in shown.text) == (item in carried)


def test_a_new_report_of_a_story_the_segment_sent_is_left_out_and_says_where(
    store: Store, config: Config
) -> None:
    run_segments(store, config, "outbox", [POLITICS], now=NOW)
    (edition,) = editions(store, POLITICS)
    with store.session() as session:
        sent = session.get_one(Article, items_of(store, edition.id)[0])
        later = NOW + timedelta(hours=2)
        report = Article(
            source_id=sent.source_id,
            url="https://newsroom.example/another-take",
            title="Another take on the same story",
            cluster_id=sent.cluster_id or sent.id,
            published_at=later,
            first_seen_at=later,
            tags=[ArticleTag(tag=t) for t in sent.tag_names],
        )
        session.add(report)
        session.flush()
        report_id = report.id
    view = desk.next_edition(store, config, POLITICS, now=NOW + timedelta(hours=3))
    assert report_id not in [i.article_id for i in view.items]
    (out,) = [o for o in view.left_out if o.article_id == report_id]
    assert out.reason == f"already sent in edition {edition.id}: a report of the same story"
    assert out.url == "https://newsroom.example/another-take"
