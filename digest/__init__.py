"""Digest: turn a stream of articles into segmented newsletter digests."""

__version__ = "0.1.0"
