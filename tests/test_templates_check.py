"""A newsroom's own templates: they override ours by name, and ``digest templates check``
refuses a set without the unsubscribe link, the postal address or the text part, in one
line per problem that names the template."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import SENDER, run_cli

from digest.render.email import Identity, render
from digest.render.sample import sample_draft
from digest.render.templates import bundled_templates
from digest.settings import SegmentSettings

HTML = """<mjml><mj-body><mj-section><mj-column>
<mj-text><h1>{{ title }}</h1></mj-text>
{% for item in items %}
<mj-text><a href="{{ item.url }}">{{ item.title }}</a> {{ item.summary }}</mj-text>
{% endfor %}
{% include "email/_footer.mjml.j2" %}
</mj-column></mj-section></mj-body></mjml>
"""
FOOTER = """<mj-text>Our own footer.
<a href="{{ reader.unsubscribe_url }}">Unsubscribe</a> · {{ postal_address }}</mj-text>
"""
TEXT = """{{ title }}
{% for item in items %}
{{ item.title }} {{ item.url }}
{% endfor %}
--
Unsubscribe: {{ reader.unsubscribe_url }}
{{ postal_address }}
"""
GOOD = {"email/digest.mjml.j2": HTML, "email/_footer.mjml.j2": FOOTER, "email/digest.txt.j2": TEXT}
ADDRESS = "1 Main Street, Springfield"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "digest.toml"
    body = f'[digest]\ntemplates_dir = "mine"\n{SENDER}[segments.daily]\n[segments.tech]\n'
    path.write_text(body, encoding="utf-8")
    return path


def write_set(config: Path, files: dict[str, str]) -> Path:
    folder = config.parent / "mine"
    for name, body in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def check(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, str, list[str]]:
    code, out, err = run_cli(capsys, "templates", "check", "--config", str(config))
    return code, out, err.splitlines()


def test_a_good_set_passes_with_a_line_saying_what_was_checked(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    write_set(config, GOOD)
    code, out, problems = check(capsys, config)
    assert (code, problems) == (0, [])
    assert out.startswith(f"checked your templates in {config.parent / 'mine'}, overriding ")
    assert "email/_footer.mjml.j2" in out and "2 segment(s) (daily, tech)" in out
    assert "unsubscribe link, the postal address and a text part" in out


def test_the_bundled_set_and_a_copy_of_it_pass(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, out, problems = check(capsys, config)  # the folder does not exist yet
    assert code == 1 and len(problems) == 1 and "is not a folder" in problems[0]
    shutil.copytree(bundled_templates() / "email", config.parent / "mine" / "email")
    code, out, problems = check(capsys, config)
    assert (code, problems) == (0, []), problems
    plain = config.parent / "plain.toml"
    plain.write_text(f"{SENDER}[segments.daily]\n", encoding="utf-8")
    code, out, problems = check(capsys, plain)
    assert (code, problems) == (0, [])
    assert out.startswith("checked the bundled templates (templates_dir is not set)")


def test_a_set_without_the_unsubscribe_link_is_refused(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    write_set(
        config,
        {**GOOD, "email/_footer.mjml.j2": FOOTER.replace("unsubscribe_url", "preferences_url")},
    )
    code, out, problems = check(capsys, config)
    assert (code, out) == (1, "")
    assert problems == [
        "email/digest.mjml.j2 (with your email/_footer.mjml.j2): no unsubscribe link: add "
        '<a href="{{ reader.unsubscribe_url }}">Unsubscribe</a> to the footer'
    ]


def test_an_unsubscribe_address_that_is_not_a_link_is_refused(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    footer = "<mj-text>Unsubscribe: {{ reader.unsubscribe_url }} · {{ postal_address }}</mj-text>"
    write_set(config, {**GOOD, "email/_footer.mjml.j2": footer})
    code, _, problems = check(capsys, config)
    assert code == 1 and len(problems) == 1 and "no unsubscribe link" in problems[0]


def test_a_text_part_without_the_unsubscribe_link_is_refused(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    write_set(
        config, {**GOOD, "email/digest.txt.j2": TEXT.replace("unsubscribe_url", "preferences_url")}
    )
    code, _, problems = check(capsys, config)
    assert code == 1
    assert problems == [
        "email/digest.txt.j2: no unsubscribe link: add Unsubscribe: {{ reader.unsubscribe_url }}"
    ]


def test_a_set_without_the_postal_address_is_refused(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    hidden = '<mj-text><div style="display:none">{{ postal_address }}</div></mj-text>'
    footer = FOOTER.replace("{{ postal_address }}", "") + hidden
    text = TEXT.replace("{{ postal_address }}", "")
    write_set(config, {**GOOD, "email/_footer.mjml.j2": footer, "email/digest.txt.j2": text})
    code, _, problems = check(capsys, config)
    assert code == 1
    assert problems == [
        "email/digest.mjml.j2 (with your email/_footer.mjml.j2): no postal address: "
        "show {{ postal_address }} in the footer",
        "email/digest.txt.j2: no postal address: add {{ postal_address }} at the end",
    ]


def test_a_set_without_its_text_part_is_refused(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    write_set(config, {k: v for k, v in GOOD.items() if not k.endswith(".txt.j2")})
    code, _, problems = check(capsys, config)
    assert code == 1 and len(problems) == 1
    assert problems[0].startswith(
        "email/digest.mjml.j2: no text part of yours beside it: add email/digest.txt.j2 to "
    )
    write_set(config, {"email/digest.txt.j2": "{# nothing #}\n"})
    code, _, problems = check(capsys, config)
    assert problems == [
        "email/digest.txt.j2: the text part is empty: write the edition as plain text there"
    ]


def test_a_segments_own_template_is_checked_and_named(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    own = HTML.replace(
        '{% include "email/_footer.mjml.j2" %}', "<mj-text>{{ postal_address }}</mj-text>"
    )
    write_set(config, {**GOOD, "email/digest-tech.mjml.j2": own, "email/digest-tech.txt.j2": TEXT})
    code, _, problems = check(capsys, config)
    assert code == 1
    assert problems == [
        "email/digest-tech.mjml.j2 (with your email/_footer.mjml.j2): no unsubscribe link: add "
        '<a href="{{ reader.unsubscribe_url }}">Unsubscribe</a> to the footer'
    ]


def test_a_syntax_error_is_one_line_naming_the_template_and_line(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    broken = FOOTER + "{% if reader.name %}\nHello\n"
    write_set(config, {**GOOD, "email/_footer.mjml.j2": broken})
    code, out, problems = check(capsys, config)
    assert (code, out) == (1, "")
    assert len(problems) == 1
    assert problems[0].startswith("email/_footer.mjml.j2:4: template syntax error: Unexpected end")
    assert problems[0].endswith("; fix that line")


def test_an_unknown_variable_is_one_line_naming_the_template_and_line(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    write_set(config, {**GOOD, "email/digest.txt.j2": TEXT + "{{ reader.nickname.upper() }}\n"})
    code, _, problems = check(capsys, config)
    assert code == 1
    assert problems == [
        "email/digest.txt.j2:8: does not render: 'dict object' has no attribute 'nickname'; "
        "use only the variables docs/templates.md lists"
    ]


def test_your_template_overrides_ours_by_name_and_may_extend_ours(tmp_path: Path) -> None:
    segment = SegmentSettings(name="daily")
    identity = Identity("The Paper", ADDRESS, __import__("zoneinfo").ZoneInfo("UTC"))
    folder = tmp_path / "mine"
    (folder / "email").mkdir(parents=True)
    (folder / "email" / "digest.txt.j2").write_text(
        '{% extends "digest:email/digest.txt.j2" %}', encoding="utf-8"
    )
    ours = render(sample_draft(segment, full=True), identity)
    extended = render(sample_draft(segment, full=True), identity, folder)
    nonce = extended.placeholders.nonce
    assert extended.text == ours.text.replace(ours.placeholders.nonce, nonce)
    (folder / "email" / "digest.txt.j2").write_text(TEXT.replace("--", "Our own text"), "utf-8")
    replaced = render(sample_draft(segment, full=True), identity, folder)
    assert "Our own text" in replaced.text and "Our own text" not in ours.text
