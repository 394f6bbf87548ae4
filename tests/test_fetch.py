"""The fetcher against a real loopback server: politeness, limits, redirects and the guard."""

from __future__ import annotations

import gzip
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from badserver import BadServer, Reply, serve
from helpers import free_port

from digest import __version__
from digest.intake.fetch import Fetched, Fetcher, FetchError
from digest.intake.netguard import AddressRefused, address_kind, resolve_public
from digest.settings import IntakeSettings

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
LOCAL = IntakeSettings(host_delay=0, timeout=2, allow_hosts=("127.0.0.1",))


@pytest.fixture
def server() -> Iterator[BadServer]:
    with serve() as running:
        yield running


def fetch(url: str, settings: IntakeSettings = LOCAL) -> Fetched:
    with Fetcher(settings) as fetcher:
        return fetcher.get(url)


def fetch_error(url: str, settings: IntakeSettings = LOCAL) -> str:
    with Fetcher(settings) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(url)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_get_returns_bytes_and_validators_and_names_digest(server: BadServer) -> None:
    server.routes["/feed"] = Reply(FEED, etag='"v1"', last_modified="Tue, 01 Sep 2026 10:00:00 GMT")
    with Fetcher(LOCAL) as fetcher:
        got = fetcher.get(f"{server.url}/feed")
    assert got.body == FEED and got.content_type == "application/rss+xml"
    assert Fetched(b"", content_type="Text/HTML; charset=utf-8").media_type == "text/html"
    assert (got.etag, got.last_modified) == ('"v1"', "Tue, 01 Sep 2026 10:00:00 GMT")
    assert got.final_url == f"{server.url}/feed" and not got.moved_to
    agent = server.requests[0].headers["User-Agent"]
    assert agent.startswith(f"Digest/{__version__} (") and "newsletter digest" in agent


def test_conditional_request_gets_not_modified_and_keeps_the_validators(
    server: BadServer,
) -> None:
    stamp = "Tue, 01 Sep 2026 10:00:00 GMT"
    server.routes["/feed"] = Reply(FEED, etag='"v1"', last_modified=stamp)
    with Fetcher(LOCAL) as fetcher:
        got = fetcher.get(f"{server.url}/feed", etag='"v1"', last_modified=stamp)
    assert got.not_modified and got.body == b""
    assert (got.etag, got.last_modified) == ('"v1"', stamp)
    sent = server.requests[0].headers
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == stamp


def test_gone_and_http_errors(server: BadServer) -> None:
    server.routes["/gone"] = Reply(b"bye", status=410)
    server.routes["/broken"] = Reply(b"oops", status=500)
    assert fetch(f"{server.url}/gone").gone
    assert fetch_error(f"{server.url}/broken").startswith(f"HTTP 500 Whatever from {server.url}")
    assert "check the URL" in fetch_error(f"{server.url}/missing")


def test_permanent_redirect_reports_the_new_location(server: BadServer) -> None:
    server.routes["/old"] = Reply(status=301, headers={"Location": "/new"})
    server.routes["/new"] = Reply(FEED)
    server.routes["/temporary"] = Reply(status=302, headers={"Location": "/new"})
    server.routes["/moved-then-temporary"] = Reply(status=308, headers={"Location": "/temporary"})
    with Fetcher(LOCAL) as fetcher:
        moved = fetcher.get(f"{server.url}/old")
        temporary = fetcher.get(f"{server.url}/temporary")
        mixed = fetcher.get(f"{server.url}/moved-then-temporary")
    assert moved.body == FEED and moved.moved_to == f"{server.url}/new"
    assert temporary.body == FEED and temporary.moved_to == ""
    assert temporary.final_url == f"{server.url}/new"
    assert mixed.moved_to == f"{server.url}/temporary"  # only the permanent part sticks


def test_redirect_loop_and_too_many_redirects_are_named(server: BadServer) -> None:
    server.routes["/a"] = Reply(status=302, headers={"Location": "/b"})
    server.routes["/b"] = Reply(status=301, headers={"Location": "/a"})
    for hop in range(7):
        server.routes[f"/hop{hop}"] = Reply(status=302, headers={"Location": f"/hop{hop + 1}"})
    loop = fetch_error(f"{server.url}/a")
    assert loop.startswith(f"redirect loop: {server.url}/a → {server.url}/b → {server.url}/a")
    assert "more than 5 redirects" in fetch_error(f"{server.url}/hop0")
    assert server.paths().count("/hop5") == 1 and "/hop6" not in server.paths()
    server.routes["/nowhere"] = Reply(status=302)
    server.routes["/garbled"] = Reply(status=301, headers={"Location": "http://[::1"})
    assert fetch_error(f"{server.url}/nowhere").endswith("without a Location header")
    assert "(Invalid URL in location header: Invalid port" in fetch_error(f"{server.url}/garbled")


def test_size_cap_applies_to_declared_streamed_and_decompressed_bodies(
    server: BadServer,
) -> None:
    small = IntakeSettings(host_delay=0, timeout=2, allow_hosts=("127.0.0.1",), max_bytes=1000)
    server.routes["/declared"] = Reply(b"x" * 5000)
    server.routes["/streamed"] = Reply(b"x" * 5000, send_length=False)
    server.routes["/bomb"] = Reply(
        gzip.compress(b"x" * 200_000), headers={"Content-Encoding": "gzip"}
    )
    server.routes["/fits"] = Reply(b"x" * 1000)
    assert "(it declares 5000)" in fetch_error(f"{server.url}/declared", small)
    assert "max_bytes = 1000" in fetch_error(f"{server.url}/streamed", small)
    assert "larger than [intake] max_bytes" in fetch_error(f"{server.url}/bomb", small)
    assert fetch(f"{server.url}/fits", small).body == b"x" * 1000


def test_silent_server_times_out(server: BadServer) -> None:
    server.routes["/sleepy"] = Reply(FEED, delay=3)
    quick = IntakeSettings(host_delay=0, timeout=0.5, allow_hosts=("127.0.0.1",))
    started = time.monotonic()
    message = fetch_error(f"{server.url}/sleepy", quick)
    assert time.monotonic() - started < 2.5
    assert message.startswith(f"timed out after 0.5 s fetching {server.url}/sleepy")


@pytest.mark.parametrize("where", ["body", "head"])
def test_a_slow_drip_meets_a_total_deadline(server: BadServer, where: str) -> None:
    slow = Reply(FEED * 3, drip=0.1) if where == "body" else Reply(FEED, drip_head=0.05)
    server.routes["/drip"] = slow  # 5 s or more at that pace
    quick = IntakeSettings(host_delay=0, timeout=0.5, allow_hosts=("127.0.0.1",))
    started = time.monotonic()
    message = fetch_error(f"{server.url}/drip", quick)
    elapsed = time.monotonic() - started
    assert 0.45 < elapsed < 2.0, elapsed
    assert message.startswith("timed out after 0.5 s")


def test_connection_cut_mid_body_and_refused_connection(server: BadServer) -> None:
    server.routes["/cut"] = Reply(FEED, cut_after=20)
    cut = fetch_error(f"{server.url}/cut")
    assert cut.startswith(f"cannot fetch {server.url}/cut (") and "closed" in cut
    port = free_port()
    refused = fetch_error(f"http://127.0.0.1:{port}/feed")
    assert refused.startswith(f"cannot fetch http://127.0.0.1:{port}/feed (")


def test_requests_to_one_host_are_paced_by_a_monotonic_clock(server: BadServer) -> None:
    server.routes["/feed"] = Reply(FEED)
    paced = IntakeSettings(host_delay=0.5, timeout=2, allow_hosts=("127.0.0.1", "localhost"))
    with Fetcher(paced) as fetcher:
        for _ in range(3):
            fetcher.get(f"{server.url}/feed")
        started = time.monotonic()
        fetcher.get(f"http://localhost:{server.port}/feed")  # another host: no pause
        other_host = time.monotonic() - started
    arrivals = [seen.at for seen in server.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals[:3])]
    assert all(gap >= 0.5 for gap in gaps), gaps
    assert other_host < 0.4
    assert len({seen.port for seen in server.requests[:3]}) == 1  # one kept-alive connection


def test_fetcher_closes_its_clients_and_can_be_used_again(server: BadServer) -> None:
    server.routes["/feed"] = Reply(FEED)
    fetcher = Fetcher(LOCAL)
    fetcher.get(f"{server.url}/feed")
    fetcher.close()
    assert fetcher._clients == {}
    assert fetcher.get(f"{server.url}/feed").body == FEED  # a fresh client
    fetcher.close()


def test_read_local_files(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED)
    with Fetcher(IntakeSettings(max_bytes=len(FEED))) as fetcher:
        assert fetcher.read(feed).body == FEED
        with pytest.raises(FetchError, match=r"nope\.xml \(No such file or directory\); check"):
            fetcher.read(tmp_path / "nope.xml")
    with (
        Fetcher(IntakeSettings(max_bytes=10)) as fetcher,
        pytest.raises(FetchError, match="max_bytes"),
    ):
        fetcher.read(feed)


# The guard: no requests to internal addresses unless a source is allowed to.


def test_loopback_is_refused_before_any_request(server: BadServer) -> None:
    server.routes["/x"] = Reply(FEED)
    message = fetch_error(f"{server.url}/x", IntakeSettings(host_delay=0))
    assert message == (
        f"refused {server.url}/x: it resolves to a loopback address; set allow_private = true "
        "on the source or add the host to [intake] allow_hosts"
    )
    assert server.requests == []


def test_allow_private_and_allow_hosts_open_the_guard(server: BadServer) -> None:
    server.routes["/x"] = Reply(FEED)
    with Fetcher(IntakeSettings(host_delay=0)) as fetcher:
        assert fetcher.get(f"{server.url}/x", allow_private=True).body == FEED
    listed = IntakeSettings(host_delay=0, allow_hosts=("LocalHost",))
    with Fetcher(listed) as fetcher:
        assert fetcher.get(f"http://localhost:{server.port}/x").body == FEED
        with pytest.raises(FetchError, match="loopback"):  # the list names hosts, not addresses
            fetcher.get(f"{server.url}/x")


def test_a_redirect_to_an_internal_address_is_refused(server: BadServer) -> None:
    server.routes["/x"] = Reply(FEED)
    server.routes["/jump"] = Reply(status=302, headers={"Location": f"{server.url}/x"})
    server.routes["/file"] = Reply(status=301, headers={"Location": "file:///etc/passwd"})
    allowed = IntakeSettings(host_delay=0, allow_hosts=("localhost",))  # stands for a public host
    message = fetch_error(f"http://localhost:{server.port}/jump", allowed)
    assert message.startswith(f"refused {server.url}/x: it resolves to a loopback address")
    assert fetch_error(f"http://localhost:{server.port}/file", allowed).startswith(
        "refused file:/etc/passwd: only http(s) URLs"
    )
    assert server.paths() == ["/jump", "/file"]


def test_allow_private_trusts_the_configured_host_only(server: BadServer) -> None:
    server.routes["/x"] = Reply(FEED)
    with serve("127.0.0.2") as other:  # another private address, not the configured host
        other.routes["/secret"] = Reply(FEED)
        server.routes["/same"] = Reply(status=302, headers={"Location": "/x"})
        server.routes["/other"] = Reply(status=302, headers={"Location": f"{other.url}/secret"})
        server.routes["/named"] = Reply(
            status=301, headers={"Location": f"http://localhost:{server.port}/x"}
        )
        with Fetcher(IntakeSettings(host_delay=0)) as fetcher:
            assert fetcher.get(f"{server.url}/same", allow_private=True).body == FEED
            with pytest.raises(FetchError) as caught:
                fetcher.get(f"{server.url}/other", allow_private=True)
            assert str(caught.value) == (
                f"refused {other.url}/secret: it resolves to a loopback address; allow_private "
                "trusts only the source's own host; add 127.0.0.2 to [intake] allow_hosts if it "
                "is trusted too"
            )
            with pytest.raises(FetchError, match=r"refused http://localhost:.* loopback"):
                fetcher.get(f"{server.url}/named", allow_private=True)
        assert other.requests == []
        assert server.paths() == ["/same", "/x", "/other", "/named"]
        listed = IntakeSettings(host_delay=0, allow_hosts=("127.0.0.2",))
        with Fetcher(listed) as fetcher:  # a hop's host listed in allow_hosts is its own trust
            assert fetcher.get(f"{server.url}/other", allow_private=True).body == FEED
        assert other.paths() == ["/secret"]


def test_a_private_teaser_feed_fetches_pages_on_its_own_host_only(server: BadServer) -> None:
    from datetime import UTC, datetime

    from digest.intake.sources.base import HarvestContext, SourceState
    from digest.intake.sources.feed import FeedSource
    from digest.settings import SourceSettings

    page = b"<html><body><article><p>" + b"Words of a page. " * 60 + b"</p></article></body></html>"
    with serve("127.0.0.2") as other:
        other.routes["/page"] = Reply(page, content_type="text/html")
        server.routes["/page"] = Reply(page, content_type="text/html")
        items = "".join(
            f"<item><title>T{n}</title><link>{url}/page</link><description>Teaser {n}."
            "</description></item>"
            for n, url in enumerate((server.url, other.url))
        )
        server.routes["/feed"] = Reply(
            f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()
        )
        settings = SourceSettings(
            name="t", url=f"{server.url}/feed", teaser=True, allow_private=True
        )
        with Fetcher(IntakeSettings(host_delay=0)) as fetcher:
            context = HarvestContext(fetcher=fetcher, base_dir=Path("."), now=datetime.now(UTC))
            harvest = FeedSource().harvest(settings, SourceState(settings.url), context)
        assert other.requests == []
        assert server.paths() == ["/feed", "/page"]
        [problem] = harvest.problems
        assert problem.startswith(f"{other.url}/page: refused {other.url}/page: it resolves to")
        assert harvest.entries[1].text == "Teaser 1."


def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(
        AddressRefused, match=r"it resolves to a loopback address \((127\.0\.0\.1|::1)\)"
    ):
        resolve_public("localhost", 80)
    assert fetch_error("ftp://example.org/feed").startswith("refused ftp://example.org/feed")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),
        ("93.184.215.14", ""),
        ("2606:4700:4700::1111", ""),
        ("::ffff:93.184.215.14", ""),
    ],
)
def test_address_kinds(address: str, kind: str) -> None:
    assert address_kind(address) == kind
