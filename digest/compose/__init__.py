"""Compose: collect a segment's candidates, rank them, summarise the chosen ones."""
