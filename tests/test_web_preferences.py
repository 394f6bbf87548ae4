"""The preferences page: tags, frequency, lists and pause, saved without JavaScript."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from webtools import Site, add_subscriber, run_digest

from subscribers.audience import Rule, audience
from subscribers.models import Membership, Status, Subscriber


def url(site: Site, subscriber_id: int) -> str:
    return f"/preferences/{site.web.links.token(subscriber_id, 'tech-weekly')}"


def load(site: Site, subscriber_id: int) -> Subscriber:
    with site.store.session() as session:
        return session.get_one(Subscriber, subscriber_id)


def test_the_page_is_a_plain_labelled_form(site: Site) -> None:
    who = add_subscriber(
        site.store,
        "ida@example.org",
        ("tech-weekly",),
        followed_tags=["ai", "gardening"],
        attributes={"frequency": "weekly"},
    )
    response = site.client.get(url(site, who))
    assert response.status_code == 200
    soup = site.soup(response)
    assert soup.find("script") is None
    legends = [legend.get_text(strip=True) for legend in soup.find_all("legend")]
    assert legends == ["Digests", "Topics you follow", "How often", "Pause"]
    for field in soup.find_all("input"):
        if field.get("type") != "hidden":
            assert soup.find("label", attrs={"for": field["id"]}) is not None, field
    checked = {(i["name"], i["value"]) for i in soup.find_all("input", checked=True)}
    assert checked == {
        ("lists", "tech-weekly"),
        ("tags", "ai"),
        ("tags", "gardening"),
        ("frequency", "weekly"),
    }
    tags = {i["value"] for i in soup.find_all("input", attrs={"name": "tags"})}
    assert {"politics", "security", "gardening"} <= tags  # the segments' tags and their own
    forms = soup.find_all("form")
    assert forms[0]["action"].startswith("/digest/preferences/")
    assert forms[1]["action"].startswith("/digest/unsubscribe/")
    assert forms[1].button.get_text(strip=True) == "Unsubscribe from everything"


def test_saving_changes_tags_frequency_and_lists(site: Site) -> None:
    who = add_subscriber(site.store, "jo@example.org", ("tech-weekly",), followed_tags=["ai"])
    with site.store.session() as session:  # a list the page does not offer is kept
        session.add(Membership(subscriber_id=who, list_name="staff"))
    response = site.client.post(
        url(site, who),
        data={
            "lists": ["politics-daily", "everything-weekly"],
            "tags": ["security"],
            "more_tags": "U.S. Politics, Climate",
            "frequency": "monthly",
        },
    )
    assert response.status_code == 200
    assert site.soup(response).find(attrs={"role": "status"}).get_text(strip=True) == (
        "Your preferences are saved."
    )
    saved = load(site, who)
    assert saved.followed_tags == ["security", "us-politics", "climate"]
    assert saved.attributes["frequency"] == "monthly"
    assert saved.list_names == {"politics-daily", "everything-weekly", "staff"}
    assert saved.status == Status.active


def test_pause_stops_every_segment_and_resume_restarts(site: Site) -> None:
    who = add_subscriber(site.store, "kim@example.org", ("tech-weekly",))
    site.client.post(url(site, who), data={"lists": ["tech-weekly"], "paused": "yes"})
    paused = load(site, who)
    assert paused.status == Status.pending and paused.confirmed_at is not None
    with site.store.session() as session:
        assert audience(session, Rule(lists=("tech-weekly",))) == []
    page = site.soup(site.client.get(url(site, who)))
    assert page.find("input", attrs={"name": "paused"}).has_attr("checked")

    site.client.post(url(site, who), data={"lists": ["tech-weekly"]})
    assert load(site, who).status == Status.active
    with site.store.session() as session:
        assert [s.id for s in audience(session, Rule(lists=("tech-weekly",)))] == [who]


def test_bad_values_are_refused_and_nothing_changes(site: Site) -> None:
    who = add_subscriber(site.store, "lee@example.org", ("tech-weekly",), followed_tags=["ai"])
    response = site.client.post(url(site, who), data={"frequency": "hourly", "tags": ["x"]})
    assert response.status_code == 400
    alert = site.soup(response).find(attrs={"role": "alert"})
    assert alert is not None and "choose a frequency among daily, weekly, monthly" in alert.text
    assert load(site, who).followed_tags == ["ai"]
    token = site.web.links.token(who, "tech-weekly")
    for bad in (token[:-2], "nope", token.replace(".", "x", 1)):
        assert site.client.get(f"/preferences/{bad}").status_code == 400
        forged = site.client.post(f"/preferences/{bad}", data={"frequency": "daily"})
        assert forged.status_code == 400
    assert "frequency" not in load(site, who).attributes


def test_suppressed_and_unconfirmed_subscribers_get_no_form(site: Site) -> None:
    gone = add_subscriber(site.store, "mo@example.org", status=Status.unsubscribed)
    waiting = add_subscriber(site.store, "ned@example.org", status=Status.pending)
    with site.store.session() as session:
        session.get_one(Subscriber, waiting).confirmed_at = None
    for who, heading in ((gone, "Not subscribed"), (waiting, "Please confirm first")):
        response = site.client.post(url(site, who), data={"paused": ""})
        soup = site.soup(response)
        assert soup.h1.get_text(strip=True) == heading and soup.find("form") is None
    assert load(site, gone).status == Status.unsubscribed
    assert load(site, waiting).status == Status.pending


def test_the_subscribers_file_no_longer_overrides_what_a_reader_chose(
    site: Site, newsroom: Path, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "email,name,lists,followed_tags,frequency\n"
        "kai@example.org,Kai,tech-weekly,ai,weekly\n"
        "lea@example.org,Lea,tech-weekly,ai,weekly\n",
        encoding="utf-8",
    )
    run_digest(newsroom, "subscribers", "import", str(people))
    with site.store.session() as session:
        ids = {s.email: s.id for s in session.scalars(select(Subscriber))}
    response = site.client.post(
        url(site, ids["kai@example.org"]),
        data={"lists": ["politics-daily"], "tags": ["security"], "frequency": "monthly"},
    )
    assert response.status_code == 200

    people.write_text(
        "email,name,lists,followed_tags,frequency\n"
        "kai@example.org,Kai Berg,tech-weekly;everything-weekly,ai;climate,weekly\n"
        "lea@example.org,Lea Roth,tech-weekly;everything-weekly,ai;climate,weekly\n",
        encoding="utf-8",
    )
    run_digest(newsroom, "subscribers", "import", str(people))
    kai, lea = load(site, ids["kai@example.org"]), load(site, ids["lea@example.org"])
    assert kai.name == "Kai Berg"  # the file still keeps the rest up to date
    assert (kai.followed_tags, kai.attributes["frequency"], kai.list_names) == (
        ["security"],
        "monthly",
        {"politics-daily"},
    )
    assert kai.preferences_saved_at is not None and lea.preferences_saved_at is None
    assert (lea.name, lea.followed_tags, lea.list_names) == (  # never chose: the file rules
        "Lea Roth",
        ["ai", "climate"],
        {"tech-weekly", "everything-weekly"},
    )


def test_a_reader_who_never_chose_a_frequency_sees_none_checked_and_keeps_none(
    site: Site,
) -> None:
    who = add_subscriber(site.store, "nat@example.org", ("tech-weekly",))
    page = site.soup(site.client.get(url(site, who)))
    radios = page.find_all("input", attrs={"name": "frequency"})
    assert [r["value"] for r in radios] == ["daily", "weekly", "monthly"]
    assert not any(r.has_attr("checked") for r in radios)
    saved = site.client.post(url(site, who), data={"lists": ["tech-weekly"], "tags": ["ai"]})
    assert saved.status_code == 200
    assert "frequency" not in load(site, who).attributes  # saving other choices sets none
    assert not site.soup(saved).find_all("input", attrs={"name": "frequency", "checked": True})


def test_synonym_tags_are_offered_once_in_their_one_spelling(site: Site) -> None:
    assert site.config.intake.tag_synonyms  # the example maps tech → technology, ...
    who = add_subscriber(
        site.store, "oz@example.org", ("tech-weekly",), followed_tags=["tech", "Gardening"]
    )
    page = site.soup(site.client.get(url(site, who)))
    offered = [i["value"] for i in page.find_all("input", attrs={"name": "tags"})]
    assert len(offered) == len(set(offered))
    assert "technology" in offered and "tech" not in offered
    assert "ai" in offered and "artificial-intelligence" not in offered
    checked = {i["value"] for i in page.find_all("input", attrs={"name": "tags", "checked": True})}
    assert checked == {"technology", "gardening"}


def test_tags_are_limited_in_length_and_number(site: Site) -> None:
    who = add_subscriber(site.store, "pia@example.org", ("tech-weekly",), followed_tags=["ai"])
    for more, message in (
        ("x" * 15_000, "a topic may have at most 50 characters; xxxxxxxxxxxxxxxxxxxx… has 15000"),
        (",".join(f"t{n}" for n in range(51)), "follow at most 50 topics; 51 were given"),
    ):
        response = site.client.post(
            url(site, who), data={"lists": ["tech-weekly"], "more_tags": more}
        )
        assert response.status_code == 400
        alert = site.soup(response).find(attrs={"role": "alert"})
        assert alert is not None and alert.get_text(strip=True) == f"Not saved: {message}"
    assert load(site, who).followed_tags == ["ai"]
