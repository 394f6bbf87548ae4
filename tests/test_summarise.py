from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import EXAMPLE, ROOT

from digest.commands.compose import summarise
from digest.compose.openings import dangling, is_reporting, opening
from digest.compose.sentences import split_sentences
from digest.compose.summarise import (
    CentralitySummariser,
    default_summariser,
    pick,
)
from digest.compose.summary_units import Unit, candidate_units, is_boilerplate
from digest.intake.feeds import parse_feed

# The seed article as it reached the product's designers: a tag line, a caption and its
# credit before the body, a promo inside it, the byline and bio after it.
RAW_SEED = "\n\n".join(
    [
        "Putin: Russian Interference in 2016 Elections Are Inventions of Trump’s Opponents",
        "Trump Putin Western liberalism\nRussian President Vladimir Putin",
        "Russian President Vladimir Putin/CC",
        (
            "Russian President Vladimir Putin ruled Thursday that the charges of Russian "
            "interference in the 2016 US presidential election were “invented” by Donald Trump’s "
            "opponents to “delegitimize” him, ensuring that contacts with teams of candidates fell "
            "within the “usual practice “."
        ),
        (
            "“All this was invented by people who are in opposition to Trump to delegitimize his "
            "work,” the Russian president said at his annual press conference."
        ),
        (
            "Russia has been accused of interfering in the 2016 US election in favor of Donald "
            "Trump. For its part, Moscow denies any intervention in the electoral process of the "
            "United States."
        ),
        (
            "The investigation, conducted since May by a special US prosecutor, accelerated in "
            "early December with the indictment of Michael Flynn, former national security adviser "
            "to Donald Trump, who admitted to having lied to the FBI and agreed to cooperate with "
            "the justice."
        ),
        (
            "“Should we ban all contact during electoral processes around the world?” asked "
            "Vladimir Putin. “They accuse our ambassador of having discussed with someone but it is"
            " a usual practice in the world”."
        ),
        (
            "“When diplomatic representatives, or even members of the government, meet with "
            "candidates or their teams, to discuss development prospects with them to understand "
            "what they plan to do when they come to power, how can they react? Why does it have to "
            "be a matter of spying?” he continued."
        ),
        "Must Read:\xa0 Former Secretary of State Hillary Clinton Suspected of Corruption",
        (
            "Asked about the work done by Donald Trump since his election, Vladimir Putin said that"
            " only “his voters, the American people” could evaluate him."
        ),
        (
            "However, he “objectively sees important results in a short time,” he said, citing the "
            "growth of financial markets. “With all due respect to President Trump’s opposition in "
            "the United States, these are objective facts.”"
        ),
        (
            "“There are things he would like to do, but he has not been able to do yet,” he added. "
            "“On foreign policy, he had talked about improving relations with Russia, but of "
            "course, even if he wants to do it, he can not right now because of some restrictions "
            "you know.”"
        ),
        (
            "The Russian president hopes that Moscow and Washington “will normalize their relations"
            " in the interests of the Russian and American peoples”, in particular to strengthen "
            "the fight against “common threats”, such as terrorism and the proliferation of weapons"
            " of mass destruction, but also to “resolve crises in the Middle East, North Korea, "
            "etc.”"
        ),
        "Andrei Santov",
        (
            "Andrei, a sociologist by profession, born in Russia but currently located in UK, "
            "covers mostly European and Russia-related news for The Talking Democrat."
        ),
    ]
)

BOILERPLATE = ("Must Read", "/CC", "Western liberalism", "sociologist", "Andrei Santov")

MARKET = """Markets fell.

Shares in Northwind fell sharply on Monday after the retailer cut its profit forecast for the \
year. Northwind said weak demand for furniture and higher shipping costs would cut profit by a \
fifth. Analysts said the profit warning from Northwind was the third from a big retailer this \
month. The weather was mild in the capital. Northwind shares have lost a third of their value \
since January as demand for furniture slowed. A spokesperson declined to comment further."""


def _seed_from_intake() -> tuple[str, str]:
    entries = parse_feed((EXAMPLE / "feeds" / "talking-democrat.xml").read_bytes())[1]
    seed = next(e for e in entries if "putin-russian-interference" in e.url)
    return seed.title, seed.text


def _says_what_putin_claimed(summary: str) -> bool:
    """That the interference charges were invented by Trump's opponents."""
    return "invented" in summary and (
        "Trump’s opponents" in summary or "opposition to Trump" in summary
    )


def test_the_seed_summary_says_what_putin_claimed_without_boilerplate() -> None:
    title, text = _seed_from_intake()
    summary = default_summariser().summarise(title, text, 60)
    assert _says_what_putin_claimed(summary)
    assert len(summary.split()) <= 60
    for junk in BOILERPLATE:
        assert junk not in summary


def test_boilerplate_is_never_picked_even_from_text_that_was_not_cleaned() -> None:
    title, text = RAW_SEED.split("\n\n", 1)
    summary = CentralitySummariser().summarise(title, text, 60)
    assert _says_what_putin_claimed(summary)
    for junk in BOILERPLATE:
        assert junk not in summary
    for line in ("Must Read: Russia news", "Photo: Jane Doe/Reuters", "Putin at the Kremlin/CC"):
        assert is_boilerplate(line)
    assert is_boilerplate("Maria Lopez covers transport for Civic Wire.")
    assert is_boilerplate("Sign up for our morning newsletter.")
    for prose in (
        "The new policy covers flood damage in forty coastal towns.",
        "Northwind Bank covers the losses of its customers.",
        "Watch makers said sales rose. Related shares fell.",
        "BBC News reports on the vote tonight.",
    ):
        assert not is_boilerplate(prose), prose


def test_the_summary_is_whole_central_sentences_in_order_within_the_budget() -> None:
    summary = CentralitySummariser().summarise("Markets fell", MARKET, 40)
    sentences = split_sentences(MARKET)
    chosen = split_sentences(summary)
    assert set(chosen) <= set(sentences)
    assert chosen == sorted(chosen, key=sentences.index)
    assert len(summary.split()) <= 40
    assert "Shares in Northwind fell sharply" in summary
    assert "weather" not in summary  # shares no words with the rest of the article
    assert summary == CentralitySummariser().summarise("Markets fell", MARKET, 40)


def test_the_title_is_never_repeated() -> None:
    text = "Northwind cuts its forecast.\n\n" + MARKET.split("\n\n", 1)[1]
    for title in ("Northwind cuts its forecast", "NORTHWIND CUTS ITS FORECAST!"):
        summary = CentralitySummariser().summarise(title, text, 60)
        assert summary and "cuts its forecast" not in summary.lower()


def test_a_quotation_of_several_sentences_stays_whole() -> None:
    text = (
        "The minister resigned on Friday after a row over the budget.\n\n"
        "“I have done what I could. The budget was not mine to write. I leave with a clear "
        "conscience,” the minister said in a letter to the prime minister about the budget.\n\n"
        "The prime minister thanked the minister for her work on the budget."
    )
    for words in (15, 40, 60):
        summary = CentralitySummariser().summarise("Minister quits", text, words)
        assert summary.count("“") == summary.count("”")
        assert ("I have done" in summary) == ("clear conscience" in summary)
    units = candidate_units("Minister quits", [split_sentences(text)])
    assert [u.sentences for u in units] == [1, 3, 1]


def test_a_sentence_budget_and_a_budget_smaller_than_any_sentence() -> None:
    one = CentralitySummariser(sentences=1).summarise("Markets fell", MARKET, 60)
    assert len(split_sentences(one)) == 1
    tiny = CentralitySummariser().summarise("Markets fell", MARKET, 5)
    assert tiny.endswith(" …") and len(tiny.split()) == 6
    assert CentralitySummariser().summarise("Title", "", 60) == ""


def test_pick_fills_the_budget_with_the_most_expected_summary_words() -> None:
    units = [Unit(f"u{i}", i, 1, n) for i, n in enumerate((30, 25, 25, 10))]
    chance = [0.9, 0.8, 0.8, 0.1]
    # 30 + 25 = 55 words (value 47) beats 25 + 25 + 10 = 60 words (value 41)
    assert [u.position for u in pick(units, chance, 60)] == [0, 1]
    assert [u.position for u in pick(units, chance, 60, sentences=1)] == [0]
    assert pick(units, chance, 9) == []


def _run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(summarise, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_summarise_command_reads_a_file_or_standard_input(tmp_path: Path) -> None:
    path = tmp_path / "seed.txt"
    path.write_text(RAW_SEED, encoding="utf-8")
    code, out, _ = _run([str(path)])
    assert code == 0 and _says_what_putin_claimed(out)
    assert not out.startswith("Putin:") and "Must Read" not in out
    plain = "Northwind shares slide\n\n" + MARKET.split("\n\n", 1)[1]
    code, out, _ = _run(["--words", "20"], plain)
    assert code == 0 and 0 < len(out.split()) <= 20 and "slide" not in out
    code, out, _ = _run(["--sentences", "1", "--title", "Markets fell"], MARKET)
    assert code == 0 and len(split_sentences(out)) == 1 and "Markets fell" not in out
    code, _, err = _run([str(tmp_path / "missing.txt")])
    assert code == 2 and "missing.txt" in err


def test_summarise_jsonl_keeps_order_and_reports_bad_lines_without_stopping() -> None:
    good = {"id": "a1", "title": "Markets fell", "text": MARKET}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"id": 2, "title": "Seed", "text": RAW_SEED.split("\n\n", 1)[1]}),
        json.dumps(["a list"]),
        json.dumps({"id": 3, "title": "No text"}),
        "",
        json.dumps({"id": 4, "text": 42}),
        json.dumps({"id": 5, "text": "Only one sentence here."}),
    ]
    code, out, err = _run(["--jsonl", "--words", "50"], "\n".join(lines) + "\n")
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["id"] for a in answers] == ["a1", 2, 5]
    assert answers[0]["summary"] == CentralitySummariser().summarise("Markets fell", MARKET, 50)
    assert _says_what_putin_claimed(answers[1]["summary"])
    assert answers[2]["summary"] == "Only one sentence here."
    errors = err.splitlines()
    assert [e.split(":")[1].strip() for e in errors] == ["line 2", "line 4", "line 5", "line 7"]
    assert "not JSON" in errors[0] and "not an object" in errors[1]
    assert '"text"' in errors[2] and '"text" must be a string' in errors[3]
    assert code == 1


def test_summarise_jsonl_handles_a_large_batch_in_one_call() -> None:
    lines = [json.dumps({"id": i, "title": "Markets fell", "text": MARKET}) for i in range(2000)]
    code, out, err = _run(["--jsonl"], "\n".join(lines))
    assert code == 0 and err == ""
    assert [json.loads(line)["id"] for line in out.splitlines()] == list(range(2000))


BA_PAGE = ROOT / "benchmarks" / "data" / "pages" / "bbc-business-004-wordpress.txt"
BA_LEAD = "British Airways has blamed high fuel prices for a 40% drop in profits."


@pytest.mark.parametrize("words", [20, 40, 60, 100])
@pytest.mark.parametrize("sentences", [None, 1, 2, 3])
def test_bbc_business_004_keeps_its_lead_in_every_setting(
    words: int, sentences: int | None
) -> None:
    text = BA_PAGE.read_text(encoding="utf-8")
    assert text.startswith(BA_LEAD)
    summary = CentralitySummariser(sentences).summarise(
        "High fuel prices hit BA's profits", text, words
    )
    assert summary.startswith(BA_LEAD)
    assert len(summary.split()) <= words
    # a caption before the body is no lead: the summary still opens on the news
    captioned = "The site pictured earlier this month.\n\n" + text
    summary = CentralitySummariser(sentences).summarise("BA profits", captioned, words)
    assert summary.startswith(BA_LEAD)


def test_a_lead_longer_than_the_budget_is_cut_and_a_quote_lead_is_passed_over() -> None:
    summary = CentralitySummariser().summarise("BA profits", BA_PAGE.read_text("utf-8"), 8)
    assert summary == "British Airways has blamed high fuel prices for …"
    text = "“We are respectable,” he said.\n\n" + BA_PAGE.read_text("utf-8")
    assert CentralitySummariser().summarise("BA", text, 60).startswith(BA_LEAD)


def test_without_a_clean_lead_the_summary_never_opens_on_a_dangling_sentence() -> None:
    text = (
        "“It was chaos,” he said.\n\n"
        "“Nobody knew where to go.”\n\n"
        "What happens now?\n\n"
        "He said the fire at the Leeds warehouse started at noon and spread to the roof.\n\n"
        "Firefighters from Leeds fought the warehouse fire at the roof for six hours.\n\n"
        "Leeds council said the warehouse fire had closed three roads near the roof."
    )
    summary = CentralitySummariser().summarise("Warehouse fire in Leeds", text, 60)
    assert summary.startswith(("Firefighters", "Leeds council"))
    assert dangling(summary.split(". ")[0] + ".", "Warehouse fire in Leeds") is None


def _newsroom_entries() -> list[tuple[str, str]]:
    found = []
    for name in ("talking-democrat.xml", "techwire.atom", "civic-wire.json"):
        entries = parse_feed((EXAMPLE / "feeds" / name).read_bytes())[1]
        found += [(e.title, e.text) for e in entries]
    return found


def test_every_example_summary_opens_on_its_lead_and_none_dangles() -> None:
    entries = _newsroom_entries()
    assert len(entries) == 37
    for title, text in entries:
        lead = split_sentences(text)[0]
        summary = default_summariser().summarise(title, text, 60)
        first = opening(summary, split_sentences(summary))
        assert dangling(first, title) is None, (title, first)
        if is_reporting(lead):
            assert summary.startswith(lead) or summary == lead_cut(lead, 60), title
    summaries = " ".join(default_summariser().summarise(t, x, 60) for t, x in entries)
    for opener in ("LockNest does not store", "The cooperative said", "The four-storey"):
        assert not any(
            default_summariser().summarise(t, x, 60).startswith(opener) for t, x in entries
        )
    assert "attackers had copied unencrypted metadata" in summaries  # what leaked


def lead_cut(lead: str, words: int) -> str:
    return " ".join(lead.split()[:words]) + " …"
