"""Summaries: a small interface, and the first version that takes the lead sentences."""

from __future__ import annotations

from typing import Protocol

from digest.compose.sentences import split_sentences


class Summariser(Protocol):
    def summarise(self, title: str, text: str, words: int) -> str:
        """A summary of at most about ``words`` words, made of whole sentences."""
        ...


class LeadSummariser:
    """The opening sentences, as many as fit the word budget (at least one, cut if it must be)."""

    def summarise(self, title: str, text: str, words: int) -> str:
        chosen: list[str] = []
        count = 0
        for sentence in split_sentences(text):
            if sentence.strip().rstrip(".") == title.strip().rstrip("."):
                continue
            length = len(sentence.split())
            if chosen and count + length > words:
                break
            if not chosen and length > words:
                return " ".join(sentence.split()[:words]).rstrip(",;:") + " …"
            chosen.append(sentence)
            count += length
        return " ".join(chosen)
