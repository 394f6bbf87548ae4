from __future__ import annotations

import time

import pytest

from digest.compose.sentences import split_paragraphs, split_sentences


def test_sentences_keep_abbreviations_decimals_and_quotes() -> None:
    text = (
        "Mr. Smith paid $3.50 for it in Jan. last year. The U.S. economy grew 2.1 percent. "
        "“We won,” she said.It was late."
    )
    assert split_sentences(text) == [
        "Mr. Smith paid $3.50 for it in Jan. last year.",
        "The U.S. economy grew 2.1 percent.",
        "“We won,” she said.",
        "It was late.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # initials and company suffixes end a sentence only before a usual sentence opener
        (
            "He moved to the U.S. The move paid off. U.S. President Biden spoke.",
            ["He moved to the U.S.", "The move paid off.", "U.S. President Biden spoke."],
        ),
        (
            "She works for Apple Inc. The firm said so. Acme Inc. Ltd. Holdings grew.",
            ["She works for Apple Inc.", "The firm said so.", "Acme Inc. Ltd. Holdings grew."],
        ),
        (
            "John F. Kennedy was shot in Dallas. They met at 10 a.m. The talks failed.",
            ["John F. Kennedy was shot in Dallas.", "They met at 10 a.m.", "The talks failed."],
        ),
        # titles, months and numbers never end a sentence
        (
            "Dr. Jones met Gen. Smith on Jan. 5. No. 10 said nothing. "
            "Ms. Lee, i.e. the boss, left.",
            [
                "Dr. Jones met Gen. Smith on Jan. 5.",
                "No. 10 said nothing.",
                "Ms. Lee, i.e. the boss, left.",
            ],
        ),
        # decimals, money, versions and domains
        (
            "Prices rose 3.5% to $1.13bn (£600m). Visit example.com today. Python 3.11 shipped.",
            [
                "Prices rose 3.5% to $1.13bn (£600m).",
                "Visit example.com today.",
                "Python 3.11 shipped.",
            ],
        ),
        # a missing space after the full stop
        (
            "Sales hit $1.2bn.Profits fell.The end came.",
            ["Sales hit $1.2bn.", "Profits fell.", "The end came."],
        ),
        # quotations: the closing mark stays, and an attributed question does not split
        (
            "“Should we ban all contact?” asked Vladimir Putin. “They accuse us,” he said.",
            ["“Should we ban all contact?” asked Vladimir Putin.", "“They accuse us,” he said."],
        ),
        (
            'He said: "It is over." Then he left! Why? Nobody knows... The end.',
            ['He said: "It is over."', "Then he left!", "Why?", "Nobody knows...", "The end."],
        ),
        ("(See the chart.) Sales fell.", ["(See the chart.)", "Sales fell."]),
        ("St. Louis won. The Rev. Al Green sang.", ["St. Louis won.", "The Rev. Al Green sang."]),
        ("He said no. Then he left.", ["He said no.", "Then he left."]),
    ],
)
def test_tricky_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_paragraphs_always_end_a_sentence_and_whitespace_is_normalised() -> None:
    text = "A line without a stop\n\nIt  goes\non here. And ends.\n\n\n   \n\nLast one"
    assert split_paragraphs(text) == [
        ["A line without a stop"],
        ["It goes on here.", "And ends."],
        ["Last one"],
    ]
    assert split_sentences(text) == [s for p in split_paragraphs(text) for s in p]
    assert split_sentences("") == [] and split_paragraphs("  \n\n ") == []


def test_splitting_is_fast() -> None:
    paragraph = (
        "Mr. Smith, of Acme Inc., said on Jan. 5 that sales rose 2.1% to $3.5bn. "
        "“We are pleased,” he said.It was the U.S. firm’s best year. Analysts agreed! Why? "
    ) * 4
    article = "\n\n".join([paragraph] * 5)  # about 400 words, 100 sentences
    start = time.perf_counter()
    for _ in range(200):
        sentences = split_sentences(article)
    elapsed = time.perf_counter() - start
    assert len(sentences) == 100
    assert elapsed < 2.0, f"200 articles took {elapsed:.2f} s"  # measured: about 0.1 s
