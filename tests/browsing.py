"""Debian's chromium through pytest-playwright, axe-core for accessibility, and screenshots
kept where the test run prints them.

The browser fixtures themselves come from pytest-playwright; ``conftest.py`` points them at
``/usr/bin/chromium``. axe-core comes from the npm registry: ``.ci/run`` installs it, and a
run without it installs it with the machine's npm the first time it is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_VERSION = "4.10.3"
# The caniemail data, through doiuse-email (caniemail itself needs Node.js 22).
DOIUSE_EMAIL_VERSION = "0.4.1"
AXE_PREFIX = ROOT / ".ci-node"
AXE_FILE = AXE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
DOIUSE_EMAIL_FILE = AXE_PREFIX / "node_modules" / "doiuse-email" / "index.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOTS = Path(os.environ.get("DIGEST_SCREENSHOTS", ROOT / "test-results" / "screenshots"))
SAVED: list[Path] = []  # printed at the end of the run by conftest.py


def required() -> bool:
    """In CI the browser tests must run: a missing browser or axe-core fails them."""
    return bool(os.environ.get("CI") or os.environ.get("DIGEST_REQUIRE_BROWSER"))


def unavailable(reason: str) -> None:
    if required():
        pytest.fail(reason)
    pytest.skip(reason)


def npm_install() -> None:
    """Install the npm packages the tests use into ``.ci-node`` with the machine's npm, all
    in one command as ``.ci/run`` does (npm removes from the folder what it is not told)."""
    if not shutil.which("npm"):
        return
    subprocess.run(
        [
            *("npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix"),
            str(AXE_PREFIX),
            f"axe-core@{AXE_VERSION}",
            f"doiuse-email@{DOIUSE_EMAIL_VERSION}",
        ],
        check=False,
        capture_output=True,
        timeout=300,
    )


def axe_source() -> str:
    """axe-core's script: ``DIGEST_AXE_JS``, or the copy in ``.ci-node``, installed with npm
    if it is not there yet."""
    given = os.environ.get("DIGEST_AXE_JS")
    path = Path(given) if given else AXE_FILE
    if not path.exists() and not given:
        npm_install()
    if not path.exists():
        unavailable(f"axe-core is not at {path}: npm install --prefix .ci-node axe-core")
    return path.read_text(encoding="utf-8")


def axe_violations(page: Page, script: str) -> list[str]:
    """Every WCAG 2.1 A/AA violation axe-core finds on the page, a line each.

    The page's context must bypass its Content-Security-Policy, which (rightly) refuses
    inline scripts; frames are checked as pages of their own."""
    page.add_script_tag(content=script)
    found: list[str] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: tags}, iframes: false,
            });
            return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} at ` +
                v.nodes.map(n => n.target.join(" ")).slice(0, 5).join("; "));
        }""",
        WCAG_AA,
    )
    return found


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``<name>.png`` in the screenshots folder."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SAVED.append(path)
    return path
