"""A small city-desk RSS feed shared by the delivery tests."""

from __future__ import annotations

from pathlib import Path


def write_city_feed(folder: Path) -> None:
    """Two politics items, 1 and 2 November 2026, as feed.xml in ``folder``."""
    items = "".join(
        f"""
    <item>
      <title>Council vote number {n}</title>
      <link>https://news.example/politics/vote-{n}</link>
      <guid>https://news.example/politics/vote-{n}</guid>
      <pubDate>Mon, 0{n} Nov 2026 08:00:00 GMT</pubDate>
      <category>politics</category>
      <description>&lt;p&gt;The council voted on measure {n} after a long debate. \\
Members said the result would shape the budget for years.&lt;/p&gt;</description>
    </item>"""
        for n in (1, 2)
    )
    (folder / "feed.xml").write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>City Desk</title><link>https://news.example/</link>
<description>Local news</description>{items}
</channel></rss>
""",
        encoding="utf-8",
    )
