"""Every client covered: the caniemail data (through the npm package doiuse-email, run by
the machine's Node.js) over each template variant of the example newsroom's editions. A
feature that Gmail (web, iOS, Android), Outlook (Windows, macOS, outlook.com), Apple Mail
(macOS, iOS) or Yahoo (web, iOS, Android) does not support fails the test, unless
tests/email_compat_allow.toml allows it for that client with a reason.

Gmail's mobile web client is left out: it drops every ``<style>`` rule, and the email is
built to read with its styles stripped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from browsing import DOIUSE_EMAIL_FILE, npm_install, unavailable
from editions import Edition, example_editions
from helpers import ROOT

CLIENTS = (
    "gmail.desktop-webmail",
    "gmail.ios",
    "gmail.android",
    "outlook.windows",
    "outlook.macos",
    "outlook.outlook-com",
    "apple-mail.macos",
    "apple-mail.ios",
    "yahoo.desktop-webmail",
    "yahoo.ios",
    "yahoo.android",
)
ALLOW_FILE = ROOT / "tests" / "email_compat_allow.toml"
SCRIPT = ROOT / "tests" / "js" / "caniemail.mjs"
Pair = tuple[str, str]  # (feature, client)


def doiuse_email() -> Path:
    """doiuse-email's entry module in ``.ci-node``, installed with npm when it is not."""
    if not shutil.which("node"):
        unavailable("node is not installed (apt-get install nodejs npm)")
    if not DOIUSE_EMAIL_FILE.exists():
        npm_install()
    if not DOIUSE_EMAIL_FILE.exists():
        unavailable(f"doiuse-email is not at {DOIUSE_EMAIL_FILE}: npm install --prefix .ci-node")
    return DOIUSE_EMAIL_FILE


def caniemail(files: list[Path]) -> dict[str, dict[str, list[Pair]]]:
    """Per file: the features some client does not support, and those it supports in part."""
    found = subprocess.run(
        ["node", str(SCRIPT), str(doiuse_email()), json.dumps(CLIENTS), *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, dict[str, list[list[str]]]] = json.loads(found.stdout)
    return {
        name: {kind: [(f, c) for f, c in pairs] for kind, pairs in parts.items()}
        for name, parts in result.items()
    }


def allowed() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = tomllib.loads(ALLOW_FILE.read_text(encoding="utf-8"))["allow"]
    return entries


def allows(entry: dict[str, Any], pair: Pair) -> bool:
    feature, client = pair
    return bool(entry["feature"] == feature and any(fnmatch(client, c) for c in entry["clients"]))


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> list[Edition]:
    return example_editions(tmp_path_factory.mktemp("compat"))


@pytest.fixture(scope="module")
def unsupported(
    editions: list[Edition], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Pair]]:
    """Per edition, the features a covered client does not support at all."""
    folder = tmp_path_factory.mktemp("compat-html")
    files = []
    for edition in editions:
        files.append(folder / f"{edition.name}.html")
        files[-1].write_text(edition.html, encoding="utf-8")
    found = caniemail(files)
    return {e.name: found[str(f)]["unsupported"] for e, f in zip(editions, files, strict=True)}


def test_no_edition_uses_a_feature_a_covered_client_lacks(
    unsupported: dict[str, list[Pair]],
) -> None:
    entries = allowed()

    where: dict[Pair, list[str]] = {}
    for name, pairs in unsupported.items():
        for pair in pairs:
            if not any(allows(entry, pair) for entry in entries):
                where.setdefault(pair, []).append(name)
    problems = [f"`{f}` is not supported by {c} ({', '.join(n)})" for (f, c), n in where.items()]
    if problems:
        pytest.fail(
            "change the template, or allow the feature for the client in "
            "tests/email_compat_allow.toml with the reason it does no harm:\n"
            + "\n".join(sorted(problems))
        )


def test_every_allowance_is_still_needed(unsupported: dict[str, list[Pair]]) -> None:
    seen = {pair for pairs in unsupported.values() for pair in pairs}
    for entry in allowed():
        for client in entry["clients"]:
            used = [p for p in seen if p[0] == entry["feature"] and fnmatch(p[1], client)]
            assert used, f"{entry['feature']} for {client}: no edition needs it; remove it"


def test_every_allowance_names_covered_clients_and_says_why() -> None:
    for entry in allowed():
        assert set(entry) == {"feature", "clients", "reason"}, entry
        assert len(entry["reason"].split()) >= 8, f"{entry['feature']}: say why it does no harm"
        for client in entry["clients"]:
            assert any(fnmatch(c, client) for c in CLIENTS), f"{client} is not covered"


def test_the_check_finds_what_a_client_lacks(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    body = '<div style="opacity:0.5;display:flex">x</div>'
    page.write_text(f"<!doctype html><html><body>{body}</body></html>", encoding="utf-8")
    found = caniemail([page])[str(page)]["unsupported"]
    assert ("opacity", "outlook.windows") in found
    assert ("display:flex", "outlook.windows") in found
    assert not any(client.startswith("apple-mail") for _, client in found)


def test_the_variants_are_the_ones_named(editions: list[Edition]) -> None:
    names = [e.name for e in editions]
    assert names == ["plain", "personalised", "note", "archived", "lead-image"]
    by_name = {e.name: e for e in editions}
    assert "View in browser" in by_name["archived"].html
    assert "View in browser" not in by_name["plain"].html
    assert "budget vote" in by_name["note"].html
    assert "ai, security" in by_name["personalised"].html
