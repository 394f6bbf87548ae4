"""Single web pages, from a URL or a saved file: one article each, its full text extracted."""

from __future__ import annotations

from digest.intake.pages import PageError, extract_page, page_entry
from digest.intake.sources.base import (
    Harvest,
    HarvestContext,
    SourceProblem,
    SourceState,
    fetch_document,
)
from digest.settings import SourceSettings


class PageSource:
    def harvest(
        self, settings: SourceSettings, state: SourceState, context: HarvestContext
    ) -> Harvest:
        fetched, harvest = fetch_document(settings, state, context)
        if fetched.not_modified or fetched.gone:
            return harvest
        url = (fetched.final_url or state.location) if settings.url else ""
        try:
            page = extract_page(fetched.body, url, content_type=fetched.content_type)
        except PageError as e:
            raise SourceProblem(str(e)) from e
        url = url or page.canonical or page.url
        if not url:
            raise SourceProblem(
                f'{state.location} declares no http(s) URL (<link rel="canonical"> or '
                "og:url); add one to the file, or give the page by url"
            )
        if not page.title:
            raise SourceProblem(f"{url} has no title; is it an article page?")
        try:
            harvest.entries = [page_entry(page, url)]
        except PageError as e:
            raise SourceProblem(str(e)) from e
        harvest.title = page.site
        return harvest
