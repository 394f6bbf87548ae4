from __future__ import annotations

import pytest

from digest.compose.openings import dangling, is_reporting, opening
from digest.compose.sentences import split_sentences


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("He said the plan would cost £2bn.", "pronoun"),
        ("It said profits would fall.", "pronoun"),
        ("They voted against the measure on Tuesday.", "pronoun"),
        ("His comments came as shares fell 5%.", "pronoun"),
        ("This is the third warning in a month.", "pronoun"),
        ("These measures will take effect in March.", "pronoun"),
        ("But analysts were not convinced.", "connective"),
        ("However, the bank kept rates on hold.", "connective"),
        ("Meanwhile, prices rose.", "connective"),
        ("In addition, the firm cut 300 jobs.", "connective"),
        ("The cooperative said it had learned from those experiences.", "reference"),
        (
            "The four-storey timber building, which opened on 16 November, houses books.",
            "reference",
        ),
        ("The move comes as rivals cut prices.", "reference"),
        ("The drop in patience comes as calls to call centres grow.", "reference"),
        ("Overall, the company's debt is close to 12bn euros.", "connective"),
        ("The same company was fined in 2019.", "reference"),
        ("The Zurich lab says the model matches larger systems.", "reference"),
        ("Mr Eddington said the results were respectable.", "reference"),
        ("“We will not give up,” he said.", "unattributed quote"),
        ("“Nobody wants a shutdown.”", "unattributed quote"),
        ('"It is quite good on the revenue side," he said.', "unattributed quote"),
        ("and the shares fell.", "fragment"),
    ],
)
def test_openings_that_point_at_text_the_reader_never_sees(sentence: str, reason: str) -> None:
    assert dangling(sentence, "Shares fall on profit warning") == reason


@pytest.mark.parametrize(
    ("sentence", "context"),
    [
        ("British Airways has blamed high fuel prices for a 40% drop in profits.", ""),
        ("LockNest does not store master passwords.", ""),
        ("The European Commission on Tuesday postponed the rules by a year.", ""),
        ("The average rate on a 30-year fixed mortgage fell to 5.87 percent.", ""),
        ("The owner of Harrods has sold the store.", ""),
        ("The government will publish the bill on Friday.", ""),
        ("The information commissioner says he is asking for details.", ""),
        ("The initial attempt to sell the Millennium Dome failed.", ""),
        ("This week, the council voted to close the library.", ""),
        ("“Nobody wants a shutdown,” said Sen. Dana Whitcombe.", ""),
        ("“We will win,” the mayor of Leeds told reporters.", ""),
        ("The cooperative said it had learned from those experiences.", "Cooperative to run"),
        ("The buildings were evacuated.", "Fire near the Oslo building"),
        ("Mr Eddington said the results were respectable.", "Rod Eddington of BA said"),
        ("Mr Rod Eddington said the results were respectable.", ""),
        ("The measure would fund agencies until Feb. 12.", "Senate Unveils Stopgap Bill"),
        ("The British company says the result is a record.", "Fusion Startup Holds Plasma"),
        ("The Kyrgyz Republic, a small state, is using invisible ink.", ""),
        ("The 1,650-kilometer Norðurljós cable gives Iceland a fourth link.", ""),
        ("The timber-built Kalasatama library has drawn crowds.", ""),
        ("", ""),
    ],
)
def test_openings_that_stand_on_their_own(sentence: str, context: str) -> None:
    assert dangling(sentence, context) is None


@pytest.mark.parametrize(
    ("sentence", "reporting"),
    [
        ("British Airways has blamed high fuel prices for a 40% drop in profits.", True),
        ("LONDON (Reuters) - Shares fell sharply on Monday after the bank's warning.", True),
        ("“It was chaos,” said a witness to the fire in Leeds.", False),
        ("The site pictured earlier this month.", False),
        ("Technicians repair a high-voltage line (Photo: Jane Doe).", False),
        ("LONDON (Reuters) -", False),
        ("Updated 3 hours ago.", False),
        ("What does the rate rise mean for your mortgage?", False),
        ("Here's everything you need to know about the budget.", False),
        ("Budget day live", False),
    ],
)
def test_a_reporting_lead(sentence: str, reporting: bool) -> None:
    assert is_reporting(sentence) is reporting


def test_the_opening_of_a_summary_keeps_a_quotation_whole() -> None:
    summary = "“We are ready. We have waited long enough,” said Ana Silva. Prices rose."
    assert opening(summary, split_sentences(summary)) == (
        "“We are ready. We have waited long enough,” said Ana Silva."
    )
    assert dangling(opening(summary, split_sentences(summary))) is None
    assert opening("", []) == ""
