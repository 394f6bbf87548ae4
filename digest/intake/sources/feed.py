"""RSS, Atom and JSON Feed sources, from a URL or a local file.

A feed marked ``teaser = true`` carries only the start of each article: each entry's
page is fetched and its extracted text replaces the teaser.
"""

from __future__ import annotations

from digest.intake.feeds import FeedParseError, parse_feed
from digest.intake.fetch import host_of
from digest.intake.pages import fill_teasers
from digest.intake.sources.base import (
    Harvest,
    HarvestContext,
    SourceProblem,
    SourceState,
    fetch_document,
)
from digest.settings import SourceSettings


class FeedSource:
    def harvest(
        self, settings: SourceSettings, state: SourceState, context: HarvestContext
    ) -> Harvest:
        fetched, harvest = fetch_document(settings, state, context)
        if fetched.not_modified or fetched.gone:
            return harvest
        try:
            harvest.title, harvest.entries = parse_feed(
                fetched.body, content_type=fetched.content_type, location=fetched.final_url
            )
        except FeedParseError as e:
            if fetched.media_type in ("text/html", "application/xhtml+xml"):
                raise SourceProblem(
                    f"got {fetched.media_type}, not a feed; give the feed's URL, "
                    'or set kind = "page" for a web page'
                ) from e
            raise SourceProblem(str(e)) from e
        if settings.teaser:
            own = host_of(settings.url) if settings.allow_private else ""
            harvest.entries, harvest.problems = fill_teasers(
                harvest.entries, context.fetcher, trusted_host=own
            )
        return harvest
