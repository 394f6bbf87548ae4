"""Intake: fetch sources, parse entries, clean their text, store them once."""
