"""Each template variant of the example newsroom's editions in Debian's chromium, as a
reader's client shows it: at 375 px (a phone) and 600 px, light and dark, with JavaScript
off and every image answered by a small local PNG (nothing leaves the machine). The
screenshots are saved; at every width nothing scrolls sideways, and the unsubscribe link,
the postal address and the lead's image (in the variant whose lead has one) are on screen."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import pytest
from browsing import screenshot
from editions import READER, Edition, example_editions
from playwright.sync_api import Browser, Locator, Page, Route, expect

pytestmark = pytest.mark.browser

WIDTHS = (375, 600)
SCHEMES = ("light", "dark")
VARIANTS = ("plain", "personalised", "note", "archived", "lead-image")


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(row * height)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PICTURE = png(160, 90, (70, 110, 150))


def answer_locally(route: Route) -> None:
    """Images get the local PNG; anything else the page asks for is refused."""
    if route.request.resource_type == "image":
        route.fulfill(status=200, content_type="image/png", body=PICTURE)
    else:
        route.abort()


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Edition]:
    found = example_editions(tmp_path_factory.mktemp("screens"))
    return {edition.name: edition for edition in found}


@pytest.fixture(params=SCHEMES)
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def open_email(browser: Browser, edition: Edition, width: int, scheme: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        color_scheme="dark" if scheme == "dark" else "light",
        java_script_enabled=False,
    )
    try:
        context.route("**/*", answer_locally)
        page = context.new_page()
        page.set_content(edition.html, wait_until="load")
        yield page
    finally:
        context.close()


def on_screen(page: Page, element: Locator, width: int, what: str) -> None:
    """``element`` is shown, with some size, within the page's width."""
    expect(element).to_be_visible()
    box = element.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0, what
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, f"{what} is cut off: {box}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_reads_at_phone_and_desktop_width_light_and_dark(
    browser: Browser, editions: dict[str, Edition], variant: str, width: int, scheme: str
) -> None:
    edition = editions[variant]
    for page in open_email(browser, edition, width, scheme):
        shot = screenshot(page, f"email-{variant}-{width}px-{scheme}")
        assert shot.stat().st_size > 5_000
        scrolls = page.evaluate("document.documentElement.scrollWidth")
        assert scrolls <= width, f"{variant} scrolls sideways at {width} px: {scrolls}"
        unsubscribe = page.locator(f'a[href="{READER.unsubscribe_url}"]').first
        on_screen(page, unsubscribe, width, "the unsubscribe link")
        address = page.get_by_text(edition.postal_address).last
        on_screen(page, address, width, "the postal address")
        if edition.lead_image:
            image = page.locator(f'img[src="{edition.lead_image}"]').first
            on_screen(page, image, width, "the lead's image")
            loaded = image.evaluate("img => img.complete && img.naturalWidth")
            assert loaded == 160, "the lead's image did not load from the local stand-in"


def test_the_image_variants_lead_has_an_image(editions: dict[str, Edition]) -> None:
    """The variant built for it has a lead image, so the lead image's
    assertions above run."""
    assert editions["lead-image"].lead_image
    assert editions["lead-image"].lead_image in editions["lead-image"].html
