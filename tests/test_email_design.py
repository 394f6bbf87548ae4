"""The email's design: a lead story, compact items, sections, the masthead and the footer,
dark mode, images (and the email without them), dates, the greeting and the text part."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup, Tag
from helpers import MINIMAL

from digest.colours import READABLE, contrast, normalise, tint_for
from digest.compose.edition import Draft, DraftItem
from digest.config import load_config
from digest.deliver.message import Recipient, personalise
from digest.errors import ConfigError
from digest.render.email import DARK_BACKGROUND, Identity, Rendered, render
from digest.render.front import day_label
from digest.render.templates import wrap
from digest.settings import DesignSettings, SegmentSettings
from digest.store.images import Image

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # a Thursday
ZONE = ZoneInfo("Europe/London")
ARCHIVE = "https://news.example/archive/daily/2026-11-26/"
SIGNUP = "https://news.example/subscribe"
SUMMARY = "The council approved a general-purpose harbour plan on Tuesday after a long debate."


def item(n: int, *, tags: tuple[str, ...] = ("politics",), image: Image | None = None) -> DraftItem:
    return DraftItem(
        article_id=n,
        title=f"Story number {n} about the harbour",
        url=f"https://news.example/story-{n}",
        source="The Talking Democrat" if n % 2 else "Civic Wire",
        author="Andrei Santov",
        published=NOW - timedelta(days=n),
        tags=tags,
        summary=f"{SUMMARY} Item {n}.",
        score=1.0,
        parts={},
        reason="",
        also=(("TechWire", f"https://techwire.example/{n}"),) if n == 2 else (),
        image=image,
    )


PHOTO = Image("https://img.example/lead.jpg", "Cranes over the harbour at dusk", 1200, 675)


def edition(
    count: int = 8,
    *,
    images: str = "lead",
    sections: dict[str, str] | None = None,
    personalised: bool = False,
    items: tuple[DraftItem, ...] | None = None,
) -> Draft:
    segment = SegmentSettings(
        name="daily",
        title="Politics Daily",
        images=images,
        sections=sections or {},
        personalised=personalised,
    )
    made = items or tuple(item(n, image=PHOTO) for n in range(1, count + 1))
    return Draft(segment, made, None, NOW)


def identity(reply_to: str = "editors@news.example", **design: str | int) -> Identity:
    return Identity(
        "The Newsroom Digest",
        "1 Main Street, Springfield",
        ZONE,
        reply_to=reply_to,
        signup_url=SIGNUP,
        design=DesignSettings(**design),  # type: ignore[arg-type]
    )


def reader(name: str = "Zoë Müller") -> Recipient:
    links = ("https://n.example/u/T", "https://n.example/p/T")
    return Recipient(1, "zoe@example.org", name, *links, "")


def opened(rendered: Rendered, name: str = "Zoë Müller") -> tuple[BeautifulSoup, str]:
    html = personalise(rendered, reader(name), "html")
    return BeautifulSoup(html, "html.parser"), personalise(rendered, reader(name), "text")


def shown(soup: BeautifulSoup) -> str:
    return " ".join(soup.get_text(" ").split())


def test_the_lead_story_comes_first_larger_with_its_image_then_compact_items() -> None:
    soup, _ = opened(render(edition(), identity(), archive_url=ARCHIVE))
    lead = soup.find(id="story-1")
    assert isinstance(lead, Tag) and lead.name == "h2" and "font-size:28px" in lead["style"]
    compact = soup.find(id="story-2")
    assert isinstance(compact, Tag) and "font-size:20px" in compact["style"]
    (photo,) = soup.find_all("img")  # "lead": the lead story's image only
    assert photo["src"] == PHOTO.url and photo["alt"] == PHOTO.alt
    assert (photo["width"], photo["height"]) == ("552", "310")  # 1200×675 at 552 wide
    assert "height:auto" in photo["style"] and "width:100%" in photo["style"]
    assert photo.find_parent("a")["href"] == "https://news.example/story-1"


def test_images_all_adds_thumbnails_and_none_shows_none() -> None:
    soup, _ = opened(render(edition(images="all"), identity()))
    images = soup.find_all("img")
    assert len(images) == 8
    assert {(i["width"], i["height"]) for i in images[1:]} == {("88", "50")}
    assert all(i["alt"] == PHOTO.alt for i in images)
    soup, _ = opened(render(edition(images="none"), identity()))
    assert soup.find_all("img") == []


def test_an_image_without_alt_or_size_or_https_is_handled() -> None:
    plain = Image("https://img.example/x.jpg", "", None, None)
    insecure = Image("http://img.example/x.jpg", "A photo", 10, 10)
    items = (item(1, image=plain), item(2, image=insecure))
    soup, _ = opened(render(edition(images="all", items=items), identity()))
    (photo,) = soup.find_all("img")  # the http one is not shown
    assert photo["alt"] == "" and not photo.has_attr("height") and photo["width"] == "552"
    assert photo.find_parent("a") is None  # a link needs a name: no alt, no link around it


def test_with_images_off_the_email_reads_the_same() -> None:
    with_images, _ = opened(render(edition(images="all"), identity()))
    without, _ = opened(render(edition(images="none"), identity()))
    for img in with_images.find_all("img"):
        img.replace_with(img["alt"])  # what a client with images off shows
    words = shown(with_images).replace(PHOTO.alt + " ", "").replace(" " + PHOTO.alt, "")
    assert words == shown(without)


def test_each_item_has_one_visible_call_to_action_saying_where_it_goes() -> None:
    rendered = render(edition(), identity())
    soup, _ = opened(rendered)
    html = personalise(rendered, reader(), "html")
    assert "Read the full story" not in html
    hidden = [e for e in soup.find_all(style=True) if "display:none" in e["style"]]
    assert len(hidden) == 1  # the preheader alone
    for n in range(1, 9):
        links = [
            a for a in soup.find_all("a") if a.get("href") == f"https://news.example/story-{n}"
        ]
        calls = [a for a in links if "Read at" in a.get_text()]
        assert len(calls) == 1
        outlet = "The Talking Democrat" if n % 2 else "Civic Wire"
        assert " ".join(calls[0].get_text().split()) == f"Read at {outlet} →"
        assert calls[0].find("span", attrs={"aria-hidden": "true"}).get_text() == "→"


def test_also_covered_by_is_in_the_meta_line_before_the_call_to_action() -> None:
    rendered = render(edition(), identity())
    soup, text = opened(rendered)
    meta = next(p for p in soup.find_all("p", class_="mt") if "Also covered by" in p.get_text())
    assert " ".join(meta.get_text().split()) == (
        "Civic Wire · Andrei Santov · Tuesday · Also covered by TechWire"
    )
    html = rendered.html
    call = html.index("Read at Civic Wire", html.index("Also covered by"))
    assert html.index("Also covered by") < call < html.index('id="story-3"')
    assert "Also covered by: TechWire <https://techwire.example/2>" in text


def test_in_this_edition_lists_every_story_from_six_items_and_links_to_it() -> None:
    soup, text = opened(render(edition(6), identity()))
    heading = soup.find("h2", string="In this edition")
    assert heading is not None
    links = heading.find_next("ol").find_all("a")
    assert [a["href"] for a in links] == [f"#story-{n}" for n in range(1, 7)]
    assert all(soup.find(id=a["href"][1:]) is not None for a in links)
    assert "In this edition:\n 1. Story number 1 about the harbour\n" in text
    soup, text = opened(render(edition(5), identity()))
    assert soup.find("h2", string="In this edition") is None and "In this edition" not in text


def test_sections_by_tag_follow_the_configured_order_and_titles() -> None:
    tags = {1: ("europe",), 2: ("world",), 3: ("europe",), 4: ("politics", "europe"), 5: ("sport",)}
    items = tuple(item(n, tags=t) for n, t in tags.items())
    titles = {"politics": "Politics", "europe": "Europe", "world": "World"}
    soup, text = opened(render(edition(items=items, sections=titles), identity()))
    headings = [h.get_text() for h in soup.find_all("h2") if h.get("id", "").startswith("section")]
    assert headings == ["Politics", "Europe", "World", "More stories"]
    # the lead stands first; then each item under the first section one of its tags names
    order = [int(h["id"].split("-")[1]) for h in soup.find_all(id=re.compile(r"^story-"))]
    assert order == [1, 2, 3, 4, 5]
    titles_shown = [h.find("a").get_text() for h in soup.find_all(id=re.compile("^story-"))]
    assert [t.split()[2] for t in titles_shown] == ["1", "4", "3", "2", "5"]
    assert all(h.name == "h3" for h in soup.find_all(id=re.compile("^story-[2-5]")))
    sections = re.findall(r"^== (.+) ==$", text, flags=re.M)
    assert sections == ["Top story", "Politics", "Europe", "World", "More stories"]


def test_without_sections_or_matching_tags_the_items_simply_follow() -> None:
    titles = {"weather": "Weather"}
    soup, text = opened(render(edition(4, sections=titles), identity()))
    assert not [h for h in soup.find_all("h2") if h.get("id", "").startswith("section")]
    assert re.findall(r"^== (.+) ==$", text, flags=re.M) == ["Top story", "More stories"]


def test_dates_are_days_never_a_bare_time() -> None:
    old = replace(item(10), published=datetime(2025, 3, 1, 12, tzinfo=UTC))
    items = (*(item(n) for n in (1, 2, 6, 9)), old)
    rendered = render(edition(items=items), identity())
    soup, text = opened(rendered)
    for body in (shown(soup), text):
        assert not re.search(r"\b\d{1,2}:\d{2}\b", body)
        for label in ("Wednesday", "Tuesday", "Friday", "17 November", "1 March 2025"):
            assert label in body
    assert "Thursday 26 November 2026" in text


def test_day_labels_are_in_the_newsrooms_zone() -> None:
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    edition_day = NOW.date()
    assert day_label(late, edition_day, ZoneInfo("UTC")) == "Wednesday"
    assert day_label(late, edition_day, ZoneInfo("Europe/Helsinki")) == "Thursday"
    assert day_label(NOW - timedelta(days=7), edition_day, ZONE) == "19 November"


def test_the_greeting_is_a_first_name_or_nothing_and_for_you_only_when_personalised() -> None:
    rendered = render(edition(), identity())
    soup, text = opened(rendered)
    assert "Hi Zoë," in shown(soup) and "\nHi Zoë,\n" in text
    soup, text = opened(rendered, name="")
    for body in (shown(soup), text):
        assert "Hi " not in body and "Hello" not in body and "reader" not in body
        assert "for you" not in body
    personal = render(edition(personalised=True), identity(), topics=("europe", "world"))
    soup, text = opened(personal)
    assert "Picked for you from the topics you follow: europe, world." in shown(soup)
    assert "Picked for you from the topics you follow: europe, world." in text


def test_the_footer_says_how_to_reach_the_editors_subscribe_and_which_list() -> None:
    soup, text = opened(render(edition(), identity(), archive_url=ARCHIVE))
    footer = soup.find(class_="foot")
    assert isinstance(footer, Tag)
    words = shown(footer)
    assert "Reply to this email to reach the editors." in words
    assert "You are on the Politics Daily list from The Newsroom Digest." in words
    assert "Forwarded this? Subscribe" in words
    assert footer.find("a", string="Subscribe")["href"] == SIGNUP
    assert "1 Main Street, Springfield" in words
    texts = footer.find_all("div", style=re.compile("font-family"))
    assert {re.search(r"font-size:(\d+px)", d["style"]).group(1) for d in texts} == {"14px"}
    assert {re.search(r"font-family:([^;]+)", d["style"]).group(1) for d in texts} == {
        "Helvetica, Arial, sans-serif"
    }
    links = footer.find_all("a", string=re.compile("Unsubscribe|preferences|View in browser"))
    assert len(links) == 3 and all("padding:4px 8px" in a["style"] for a in links)
    assert "Reply to this email to reach the editors." in text
    assert f"Forwarded this? Subscribe: {SIGNUP}" in text
    soup, text = opened(render(edition(), identity(reply_to="")))
    assert "reach the editors" not in shown(soup) and "reach the editors" not in text


def test_dark_mode_styles_and_metas() -> None:
    rendered = render(edition(), identity())
    head = rendered.html.split("</head>")[0]
    assert '<meta name="color-scheme" content="light dark" />' in head
    assert '<meta name="supported-color-schemes" content="light dark" />' in head
    assert "color-scheme: light dark;" in head
    assert "@media (prefers-color-scheme: dark)" in head
    assert "[data-ogsc] .tx a" in head and "[data-ogsb] .card > table" in head
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert soup.find("body").find(class_="page") is not None
    assert len(soup.find_all(class_="card")) >= 3


def colours(css: str) -> set[str]:
    return {normalise(c) for c in re.findall(r"(?<![\w-])color:\s*(#[0-9a-fA-F]{3,6})\b", css)}


def test_text_keeps_contrast_in_light_and_in_dark_mode() -> None:
    rendered = render(edition(), identity(brand_color="#7a2e8c"))
    head, body = rendered.html.split("</head>")
    light = colours(body)
    assert "#7a2e8c" in light
    for colour in light:
        for background in ("#ffffff", "#f3f1ec"):
            assert contrast(colour, background) >= READABLE, (colour, background)
    dark = colours(head.split("@media (prefers-color-scheme: dark)")[1])
    assert tint_for("#7a2e8c", DARK_BACKGROUND) in dark
    for colour in dark:
        for background in (DARK_BACKGROUND, "#111214"):
            assert contrast(colour, background) >= READABLE, (colour, background)


def test_the_masthead_shows_the_wordmark_or_the_logo_the_date_and_view_in_browser() -> None:
    soup, text = opened(render(edition(), identity(wordmark="Newsroom"), archive_url=ARCHIVE))
    assert soup.find("span", class_="br").get_text() == "Newsroom"
    assert soup.find("h1").get_text() == "Politics Daily"
    assert "Thursday 26 November 2026" in shown(soup)
    assert soup.find("a", string="View in browser")["href"] == ARCHIVE
    assert text.startswith("NEWSROOM\nPolitics Daily · Thursday 26 November 2026\n")
    assert f"\nView online: {ARCHIVE}\n" in text
    logo = {"logo_url": "https://news.example/logo.png", "logo_width": 180, "logo_height": 40}
    soup, _ = opened(render(edition(images="none"), identity(**logo)))
    (img,) = soup.find_all("img")
    assert (img["src"], img["alt"], img["width"], img["height"]) == (
        "https://news.example/logo.png",
        "The Newsroom Digest",
        "180",
        "40",
    )
    soup, text = opened(render(edition(), identity()))
    assert soup.find("a", string="View in browser") is None and "View online" not in text


def test_the_text_part_wraps_without_splitting_hyphenated_words_and_signs_off() -> None:
    _, text = opened(render(edition(), identity()))
    assert "general-purpose" in text and "general-\n" not in text
    assert all(len(line) <= 72 for line in text.splitlines() if " " in line and "://" not in line)
    assert "\n-- \n" in text and text.index("\n-- \n") < text.index("Unsubscribe:")
    assert wrap("a well-known long-standing word " * 4, 20).count("-\n") == 0


def test_every_table_is_presentational_and_twenty_items_stay_far_below_the_clip() -> None:
    rendered = render(edition(20, images="all"), identity(), archive_url=ARCHIVE)
    soup = BeautifulSoup(rendered.html, "html.parser")
    assert all(t.get("role") == "presentation" for t in soup.find_all("table"))
    assert len(rendered.items) == 20
    assert len(rendered.html.encode("utf-8")) < 60_000  # Gmail clips at about 102 KB


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ('brand_color = "blue"', "brand_color: 'blue' is not a hex colour"),
        ('brand_color = "#7fb3ff"', "contrast 2.1:1, below 4.5:1"),
        ('logo_url = "http://x.example/l.png"', "logo_url: must start with https://"),
    ],
)
def test_design_settings_are_checked(tmp_path: Path, setting: str, error: str) -> None:
    path = tmp_path / "digest.toml"
    path.write_text(f"[design]\n{setting}\n{MINIMAL}", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(error)):
        load_config(path)


def test_images_and_sections_are_segment_settings(tmp_path: Path) -> None:
    path = tmp_path / "digest.toml"
    body = MINIMAL + 'images = "all"\nsections = { world = "World", europe = "Europe" }\n'
    path.write_text(body + '[design]\nbrand_color = "#0B4F8A"\n', encoding="utf-8")
    config = load_config(path)
    daily = config.segment("daily")
    assert daily.images == "all" and list(daily.sections.items()) == [
        ("world", "World"),
        ("europe", "Europe"),
    ]
    path.write_text(MINIMAL + 'images = "some"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="images: 'some' is not one of 'lead', 'all', 'none'"):
        load_config(path)


def test_the_dark_tint_keeps_the_hue_and_reads_on_the_dark_background() -> None:
    tint = tint_for("#0b4f8a", DARK_BACKGROUND)
    assert contrast(tint, DARK_BACKGROUND) >= READABLE and tint != "#ffffff"
    assert contrast(tint_for("#0b4f8a", DARK_BACKGROUND, 4.0), DARK_BACKGROUND) >= 4.0
    assert normalise("#ABC") == "#aabbcc"
