"""Canonical URLs: one article reached by many URLs is stored under one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.store.urls import _registrable, canonical_url


def registrable(host: str) -> str:
    return _registrable(host.lower().rstrip("."))


ARTICLE = "https://www.example.com/2026/11/24/story"


@pytest.mark.parametrize(
    "variant",
    [
        ARTICLE,
        "HTTPS://WWW.EXAMPLE.COM/2026/11/24/story",
        "https://www.example.com:443/2026/11/24/story",
        "https://www.example.com./2026/11/24/story",
        "https://www.example.com/2026/11/24/story#comments",
        "https://www.example.com/2026/11/24/./extra/../story",
        "https://www.example.com/2026/11/24/story?utm_source=rss&utm_medium=feed",
        "https://www.example.com/2026/11/24/story?fbclid=IwAR0x&gclid=abc&_ga=2.1",
        "https://www.example.com/2026/11/24/story?mc_cid=1&mc_eid=2&igshid=3&msclkid=4",
        "https://www.example.com/2026/11/24/story?dclid=1&yclid=2&ref_src=twsrc%5Etfw",
        "https://www.example.com/2026/11/24/story?ref=rss",
        "https://www.example.com/2026/11/24/story?ref=news.ycombinator.com",
        "https://www.example.com/2026/11/24/story/amp",
        "https://www.example.com/2026/11/24/story/amp/",
        "https://www.example.com/2026/11/24/story?amp=1",
        "https://www.example.com/2026/11/24/story?outputType=amp",
        "https://amp.example.com/2026/11/24/story",
        "https://m.example.com/2026/11/24/story",
        "https://mobile.example.com/2026/11/24/story",
        "https://www.google.com/amp/s/www.example.com/2026/11/24/story",
        "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/2026/11/24/story/amp",
        "  https://user:secret@www.example.com/2026/11/24/story  ",
    ],
)
def test_variants_of_one_article_share_its_canonical_url(variant: str) -> None:
    assert canonical_url(variant) == ARTICLE


def test_amp_html_pages_map_to_the_html_page() -> None:
    assert (
        canonical_url("https://news.example.org/a/b.amp.html")
        == "https://news.example.org/a/b.html"
    )


def test_mobile_label_inside_a_host_is_removed_without_adding_www() -> None:
    assert canonical_url("https://en.m.wikipedia.org/wiki/Tallinn") == (
        "https://en.wikipedia.org/wiki/Tallinn"
    )
    assert canonical_url("https://m.news.bbc.co.uk/x") == "https://news.bbc.co.uk/x"
    assert canonical_url("https://m.bbc.co.uk/x") == "https://www.bbc.co.uk/x"


def test_what_could_break_the_link_is_kept() -> None:
    assert canonical_url("http://example.com/x") == "http://example.com/x"  # no https upgrade
    assert canonical_url("https://example.com/x") == "https://example.com/x"  # no www added
    assert canonical_url("https://www.example.com/x/") == "https://www.example.com/x/"
    assert canonical_url("https://example.com:8443/x") == "https://example.com:8443/x"
    assert canonical_url("https://example.com/#!/route") == "https://example.com/#!/route"


def test_meaningful_parameters_stay_sorted_and_evenly_encoded() -> None:
    url = "https://example.com/search?q=a+b&page=2&ref=main&id=%7e1&utm_campaign=x"
    assert canonical_url(url) == "https://example.com/search?id=~1&page=2&q=a%20b&ref=main"
    assert canonical_url("https://example.com/caf%c3%a9/%7Euser/a b") == (
        "https://example.com/caf%C3%A9/~user/a%20b"
    )
    assert canonical_url("https://example.com/100%/x") == "https://example.com/100%25/x"
    assert canonical_url("https://bücher.example/x") == "https://xn--bcher-kva.example/x"


def test_declared_canonical_on_the_same_site_wins() -> None:
    page = "https://m.example.com/story-123?utm_source=x"
    assert canonical_url(page, "https://www.example.com/news/story") == (
        "https://www.example.com/news/story"
    )
    assert canonical_url(page, "https://news.example.com/story?fbclid=1") == (
        "https://news.example.com/story"
    )
    assert canonical_url(page, "/news/story") == "https://www.example.com/news/story"


@pytest.mark.parametrize(
    "declared",
    [
        "https://other.example.net/story",  # another registrable domain
        "https://bob.github.io/story",  # another registrant under a shared suffix
        "javascript:alert(1)",
        "mailto:editor@example.com",
        "ftp://www.example.com/story",
        "https://",
        "http://[::1/x",
        "../relative/story",
        "//other.example.net/story",
    ],
)
def test_declared_canonical_elsewhere_or_malformed_is_ignored(declared: str) -> None:
    page = "https://alice.github.io/story" if "github" in declared else ARTICLE
    assert canonical_url(page, declared) == page


def test_without_a_page_url_a_plausible_declared_canonical_is_taken() -> None:
    assert canonical_url("", "https://example.com/y?utm_medium=x") == "https://example.com/y"
    assert canonical_url("", "https://localhost/y") == ""


@pytest.mark.parametrize(
    "odd", ["", "not a url", "tag:example.com,2026:1", "file:///tmp/a.md", "http://h:abc/x"]
)
def test_anything_else_comes_back_as_given(odd: str) -> None:
    assert canonical_url(odd) == odd


def test_registrable_domain_uses_the_public_suffix_list() -> None:
    assert registrable("news.bbc.co.uk") == "bbc.co.uk"
    assert registrable("WWW.Example.COM.") == "example.com"
    assert registrable("alice.github.io") == "alice.github.io"
    assert registrable("10.0.0.1") == registrable("localhost") == ""


HOSTS = st.sampled_from(
    [
        "example.com",
        "WWW.Example.com",
        "m.example.com",
        "amp.news.example.co.uk",
        "mobile.example.org.",
        "bücher.example",
        "127.0.0.1",
        "[::1]",
        "www-example-com.cdn.ampproject.org",
        "www.google.com",
    ]
)
SEGMENTS = st.lists(
    st.one_of(
        st.sampled_from(["amp", "..", ".", "", "x.amp.html", "%7e", "%2f", "%zz", "s", "c"]),
        st.text(min_size=1, max_size=8),
    ),
    max_size=5,
)
PARAMS = st.lists(
    st.tuples(
        st.sampled_from(["utm_source", "ref", "amp", "id", "q", "a", "fbclid", "", "Q"]),
        st.sampled_from(["", "1", "rss", "a b", "%26", "x+y", "é", "main", "t.co"]),
    ),
    max_size=4,
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp", ""]))
    host = draw(HOSTS)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(SEGMENTS))
    query = "&".join(f"{k}={v}" for k, v in draw(PARAMS))
    fragment = draw(st.sampled_from(["", "#top", "#!/a"]))
    return f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "") + fragment


@settings(max_examples=400, deadline=None)
@given(urls(), st.one_of(st.just(""), urls(), st.sampled_from(["/a/b", "../c", "//x.org/"])))
def test_canonical_url_is_idempotent(url: str, declared: str) -> None:
    once = canonical_url(url, declared)
    assert canonical_url(once) == once
    if declared.startswith(("http://", "https://")):  # not one relative to the page
        assert canonical_url(once, declared) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=30))
def test_canonical_url_never_raises_on_arbitrary_text(url: str, declared: str) -> None:
    result = canonical_url(url, declared)
    assert isinstance(result, str)
    assert canonical_url(result) == result
