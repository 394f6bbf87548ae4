"""Eight page markups in the manner of common news CMSs, for the extraction benchmark."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from page_chrome import (
    ADS,
    SHARES,
    Chrome,
    Story,
    body,
    comment_items,
    head,
    nav_list,
    related_items,
)


def _caption(chrome: Chrome) -> tuple[str, str]:
    assert chrome.caption is not None
    return escape(chrome.caption[0]), escape(chrome.caption[1])


def _pieces_as_paragraphs(kind: str, chrome: Chrome) -> str:
    """A careless CMS: captions, promos and plugs are plain paragraphs in the body."""
    if kind == "figure":
        text, credit = _caption(chrome)
        return f'<p><img src="/img/a.jpg" alt=""></p><p>{text}</p><p>{credit}</p>'
    if kind == "promo":
        label, headline = chrome.promo()
        return f'<p><strong>{label}</strong> <a href="/x">{escape(headline)}</a></p>'
    if kind == "ad":
        return f'<p class="ad">{chrome.rng.choice(ADS)}</p>'
    if kind == "pull":
        return f"<blockquote><p>{escape(chrome.pull_quote())}</p></blockquote>"
    return f"<p><em>{escape(chrome.newsletter)}</em></p>"


def _pieces_marked(kind: str, chrome: Chrome) -> str:
    """A tidy CMS: every piece in an element whose class says what it is."""
    if kind == "figure":
        text, credit = _caption(chrome)
        return (
            '<figure class="image-block"><img src="/img/a.jpg" alt="">'
            f'<figcaption><span class="caption-text">{text}</span> '
            f'<span class="credit">{credit}</span></figcaption></figure>'
        )
    if kind == "promo":
        label, headline = chrome.promo()
        return (
            f'<div class="inline-promo related-link"><span>{label}</span> '
            f'<a href="/x">{escape(headline)}</a></div>'
        )
    if kind == "ad":
        return f'<div class="ad-container ad-slot"><span>{chrome.rng.choice(ADS)}</span></div>'
    if kind == "pull":
        return f'<aside class="pullquote"><p>“{escape(chrome.pull_quote())}”</p></aside>'
    return (
        f'<div class="newsletter-inline"><p>{escape(chrome.newsletter)}</p>'
        '<form><input type="email" placeholder="Email address"><button>Sign up</button></form>'
        "</div>"
    )


def _byline(story: Story) -> str:
    return f'By <a rel="author" href="/people/x">{escape(story.author)}</a>'


def _cookie(chrome: Chrome) -> str:
    if not chrome.cookie:
        return ""
    return (
        f'<div id="consent-banner" class="cookie-consent"><p>{chrome.cookie}</p>'
        "<button>Accept all</button><button>Manage options</button></div>"
    )


def _comments(chrome: Chrome, heading: str = "Comments") -> str:
    if not chrome.comments:
        return ""
    return (
        f'<section id="comments" class="comments-area"><h2>{len(chrome.comments)} {heading}</h2>'
        f'<ol class="comment-list">{comment_items(chrome)}</ol>'
        '<div id="respond"><h3>Leave a Reply</h3><p>Your email address will not be published. '
        "Required fields are marked *</p></div></section>"
    )


def _footer(site: str) -> str:
    return (
        f'<footer class="site-footer"><p>{site} is an independent news organisation. Our '
        "journalism is funded by our readers and we never let advertisers decide what we "
        "cover.</p>"
        f"{nav_list(('About us', 'Contact', 'Careers', 'Privacy', 'Terms', 'Advertise'))}"
        f"<p>© 2026 {site}. All rights reserved.</p></footer>"
    )


def wordpress(story: Story, seed: int) -> str:
    site = "The Daily Ledger"
    c = Chrome(story, seed, site)
    related = (
        '<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline">'
        f"<em>Related</em></h3><ul>{related_items(c)}</ul></div>"
        if c.related
        else ""
    )
    tags = "".join(f'<a href="/tag/{t}" rel="tag">{escape(t)}</a>, ' for t in story.tags)
    return (
        f"<!DOCTYPE html><html lang='en-US'>{head(story, site)}<body class='single-post'>"
        f"{_cookie(c)}<header id='masthead'><p class='site-title'>{site}</p>"
        f"<nav id='site-navigation' class='main-navigation'>{nav_list()}</nav></header>"
        f"<div id='content'><div id='primary'><main id='main'><article class='post'>"
        f"<header class='entry-header'><h1 class='entry-title'>{escape(story.title)}</h1>"
        f"<div class='entry-meta'><span class='byline'>{_byline(story)}</span> "
        f"<time>{story.published[:10]}</time></div></header>"
        f"<div class='entry-content'>{body(c, lambda t: f'<p>{t}</p>', _pieces_as_paragraphs)}"
        + (f"<p><strong>{escape(c.follow)}</strong></p>" if c.follow else "")
        + "<div class='sharedaddy sd-sharing-enabled'><h3 class='sd-title'>Share this:</h3>"
        f"{nav_list(SHARES[2:])}</div></div>"
        f"<footer class='entry-footer'><span class='tags-links'>Tagged {tags}</span></footer>"
        + (f"<div class='author-info'><p>{escape(c.bio)}</p></div>" if c.bio else "")
        + f"</article>{related}{_comments(c)}</main></div>"
        f"<aside id='secondary' class='widget-area'><h2>Most read</h2>"
        f"<ol>{''.join(f'<li><a href=/m>{escape(h)}</a></li>' for h in c.most_read)}</ol>"
        f"</aside></div>{_footer(site)}</body></html>"
    )


def bbc_like(story: Story, seed: int) -> str:
    site = "Global News Service"
    c = Chrome(story, seed, site)

    def block(text: str) -> str:
        return (
            '<div data-component="text-block" class="ssrcss-11r1m41-RichTextComponentWrapper">'
            f'<div class="ssrcss-7uxr49-RichTextContainer"><p class="ssrcss-1q0x1qg-Paragraph">'
            f"{text}</p></div></div>"
        )

    more = "".join(
        f'<li><a href="/news/{i}"><span>{escape(h)}</span></a></li>'
        for i, (h, _) in enumerate(c.related)
    )
    return (
        f"<!DOCTYPE html><html lang='en-GB'>{head(story, site)}<body>{_cookie(c)}"
        f"<header><nav aria-label='{site}'>{nav_list()}</nav></header>"
        "<div id='main-wrapper'><main id='main-content'><article>"
        f"<header><h1 id='main-heading'>{escape(story.title)}</h1></header>"
        f"<div data-component='byline-block'><p>{escape(story.author)}</p>"
        f"<p>{story.section} reporter</p></div>"
        f"<div data-component='timestamp-block'><time>{story.published[:10]}</time></div>"
        f"{body(c, block, _pieces_marked)}"
        + (block(f"<b>{escape(c.follow)}</b>") if c.follow else "")
        + f"<div data-component='topic-list'><h2>Related Topics</h2>{nav_list(story.tags)}</div>"
        "</article>"
        + (
            f"<section data-component='links-block'><h2>More on this story</h2><ul>{more}</ul>"
            "</section>"
            if more
            else ""
        )
        + "</main></div>"
        + (
            "<section aria-labelledby='most-read'><h2 id='most-read'>Most read</h2><ol>"
            + "".join(f"<li><a href='/r'>{escape(h)}</a></li>" for h in c.most_read)
            + "</ol></section>"
            if c.most_read
            else ""
        )
        + f"{_footer(site)}</body></html>"
    )


def arc_like(story: Story, seed: int) -> str:
    site = "Metro Tribune"
    c = Chrome(story, seed, site)
    text = body(
        c, lambda t: f'<p class="article-body__element" data-type="text">{t}</p>', _pieces_marked
    )
    related = (
        f'<aside class="related-stories"><h2>Related stories</h2><ul>{related_items(c)}</ul>'
        "</aside>"
        if c.related
        else ""
    )
    return (
        f"<!DOCTYPE html><html>{head(story, site)}<body><div id='fusion-app'>{_cookie(c)}"
        f"<div class='header-nav'>{nav_list()}</div>"
        "<div class='breaking-news-bar'><span>Breaking</span> <a href='/b'>"
        f"{escape(story.others[0][0])}</a></div>"
        f"<div class='article-layout'><div class='headline'><h1>{escape(story.title)}</h1></div>"
        f"<div class='byline'>{_byline(story)} | <span class='timestamp'>Updated "
        f"{story.published[:10]}</span></div>"
        f"<div class='share-bar'>{nav_list(SHARES)}</div>"
        f"<div class='article-body'>{text}"
        + (f"<p class='article-body__element'><i>{escape(c.bio)}</i></p>" if c.bio else "")
        + (
            "<h2 class='article-body__element'>Related coverage</h2>"
            + "".join(
                f"<p class='article-body__element'><a href='/r'>{escape(h)}</a> {escape(t)}</p>"
                for h, t in c.related[:2]
            )
            if c.related and c.rng.random() < 0.6
            else ""
        )
        + f"</div>{related}</div>{_comments(c, 'Comments')}{_footer(site)}</div></body></html>"
    )


def legacy_table(story: Story, seed: int) -> str:
    site = "Valley Courier"
    c = Chrome(story, seed, site)
    paragraphs = "<br><br>\n".join(
        escape(t, quote=False) for t in story.paragraphs
    )  # an old CMS: no paragraph elements at all
    side = "".join(
        f"<p><a href='/s'><b>{escape(h)}</b></a><br>{escape(t)}</p>" for h, t in c.related
    )
    caption = (
        f"<table><tr><td><img src='/i.jpg'></td></tr><tr><td><font size='1'>"
        f"{escape(c.caption[0])} {escape(c.caption[1])}</font></td></tr></table>"
        if c.caption
        else ""
    )
    return (
        f"<html>{head(story, site, canonical=c.rng.random() < 0.5)}"
        "<body bgcolor='#ffffff'>"
        "<table width='100%'><tr><td colspan='3'><font size='5'><b>"
        f"{site}</b></font></td></tr><tr><td width='150' valign='top' class='leftnav'>"
        + "".join(f"<a href='/{n}'>{n}</a><br>" for n in ("Home", "Local", "Sports", "Obits"))
        + "</td><td valign='top' class='content'>"
        f"<font face='Arial' size='4'><b>{escape(story.title)}</b></font><br>"
        f"<font size='2'>By {escape(story.author)}, {site} | {story.published[:10]}</font>"
        f"<br><br>{caption}<font face='Arial' size='2'>{paragraphs}</font><br><br>"
        + (f"<i>{escape(c.newsletter)}</i><br>" if c.newsletter else "")
        + f"</td><td width='250' valign='top' class='rightcol'><b>Top Stories</b>{side}</td>"
        f"</tr><tr><td colspan='3'><font size='1'>© 2026 {site}. Privacy policy | Terms of use"
        "</font></td></tr></table></body></html>"
    )


def nextjs(story: Story, seed: int) -> str:
    site = "Signal"
    c = Chrome(story, seed, site)
    text = body(c, lambda t: f'<p class="css-at9mc1 evys1bk0">{t}</p>', _pieces_as_paragraphs)
    recommended = "".join(
        f'<div class="css-1l4spti"><a href="/r"><h3 class="css-1j88qqx">{escape(h)}</h3>'
        f'<p class="css-1echdzn">{escape(t)}</p></a></div>'
        for h, t in c.related
    )
    return (
        f"<!DOCTYPE html><html>{head(story, site, extra='<style>.css-at9mc1{}</style>')}"
        "<body><div id='__next'><div class='css-1r6wvpq'>"
        f"<div class='css-hdr'>{nav_list()}</div>"
        f"<div class='css-1vxca1d'><div class='css-title'><h1 class='css-88wicj'>"
        f"{escape(story.title)}</h1></div><div class='css-byl'>{_byline(story)}</div>"
        f"<div class='css-53u6y8'>{text}</div>"
        + (f"<div class='css-bio'><p>{escape(c.bio)}</p></div>" if c.bio else "")
        + "</div>"
        + (
            f"<div class='css-rec'><h2>Recommended for you</h2>{recommended}</div>"
            if recommended
            else ""
        )
        + (
            "<div class='css-9ol2k1'><h2>Join the conversation</h2>"
            + "".join(
                f"<div class='css-c0m'><span>reader{i}</span><p class='css-x1'>"
                f"{escape(t)}</p></div>"
                for i, t in enumerate(c.comments)
            )
            + "</div>"
            if c.comments
            else ""
        )
        + (f"<div class='css-modal'><p>{c.cookie}</p><button>OK</button></div>" if c.cookie else "")
        + f"</div></div>{_footer(site)}"
        "<script id='__NEXT_DATA__' type='application/json'>{\"props\":{}}</script>"
        "</body></html>"
    )


def ghost(story: Story, seed: int) -> str:
    site = "Field Notes"
    c = Chrome(story, seed, site)
    text = body(c, lambda t: f"<p>{t}</p>", _pieces_marked)
    return (
        f"<!DOCTYPE html><html>{head(story, site)}<body class='post-template'>"
        f"<header class='gh-head'><a class='gh-head-logo'>{site}</a>"
        f"{nav_list(('Home', 'About', 'Archive', 'Sign in', 'Subscribe'))}</header>"
        "<main id='site-main'><article class='gh-article post'>"
        f"<header class='gh-article-header'><a class='gh-article-tag'>{story.section}</a>"
        f"<h1 class='gh-article-title'>{escape(story.title)}</h1>"
        f"<div class='gh-article-meta'><a class='gh-author'>{escape(story.author)}</a>"
        f"<time>{story.published[:10]}</time> · 5 min read</div></header>"
        f"<section class='gh-content gh-canvas'>{text}"
        + (f"<p><em>{escape(c.follow)}</em></p>" if c.follow else "")
        + "</section>"
        + (
            f"<section class='gh-cta'><h3>Subscribe to {site}</h3>"
            f"<p>{escape(c.newsletter)}</p></section>"
            if c.newsletter
            else ""
        )
        + (f"<section class='gh-author-card'><p>{escape(c.bio)}</p></section>" if c.bio else "")
        + "</article>"
        + (
            f"<aside class='gh-read-next'><h3>Read next</h3><ul>{related_items(c)}</ul></aside>"
            if c.related
            else ""
        )
        + f"</main>{_footer(site)}</body></html>"
    )


def drupal(story: Story, seed: int) -> str:
    site = "Regional Herald"
    c = Chrome(story, seed, site)
    text = body(c, lambda t: f"<p>{t}</p>", _pieces_marked)
    return (
        f"<!DOCTYPE html><html>{head(story, site)}<body class='path-node page-node-type-article'>"
        f"<div class='dialog-off-canvas-main-canvas'>{_cookie(c)}"
        f"<nav class='breadcrumb'><ol><li><a href='/'>Home</a></li><li>{story.section}</li>"
        f"</ol></nav><nav role='navigation' class='menu--main'>{nav_list()}</nav>"
        "<main role='main'><div class='region region-content'>"
        "<article class='node node--type-article'>"
        f"<h1 class='page-title'><span class='field field--name-title'>{escape(story.title)}"
        f"</span></h1><div class='node__meta'><span class='field--name-uid'>{escape(story.author)}"
        f"</span> <span class='field--name-created'>{story.published[:10]}</span></div>"
        "<div class='node__content'><div class='clearfix text-formatted field field--name-body "
        f"field--type-text-with-summary field__item'>{text}</div>"
        f"<div class='field field--name-field-tags'>{nav_list(story.tags)}</div></div></article>"
        "<div class='views-element-container'><h2>Related content</h2>"
        f"<div class='view-content'><ul>{related_items(c)}</ul></div></div>"
        f"{_comments(c)}</div></main>{_footer(site)}</div></body></html>"
    )


def amp(story: Story, seed: int) -> str:
    site = "Quick Wire"
    c = Chrome(story, seed, site)

    def piece(kind: str, chrome: Chrome) -> str:
        if kind == "ad":
            return "<amp-ad width='300' height='250' type='doubleclick'></amp-ad>"
        if kind == "figure":
            text, credit = _caption(chrome)
            return (
                "<figure><amp-img src='/i.jpg' width='800' height='450' layout='responsive'>"
                f"</amp-img><figcaption>{text} {credit}</figcaption></figure>"
            )
        return _pieces_as_paragraphs(kind, chrome)

    carousel = "".join(
        f"<div class='slide'><a href='/a'><h4>{escape(h)}</h4><p>{escape(t)}</p></a></div>"
        for h, t in c.related
    )
    return (
        f"<!doctype html><html amp lang='en'>{head(story, site)}<body>"
        f"<amp-sidebar id='sidebar' layout='nodisplay'>{nav_list()}</amp-sidebar>"
        f"<header class='amp-header'><a href='/'>{site}</a></header>"
        f"<article class='amp-article'><h1>{escape(story.title)}</h1>"
        f"<p class='byline'>{_byline(story)} — {story.published[:10]}</p>"
        "<amp-social-share type='twitter'></amp-social-share>"
        "<amp-social-share type='facebook'></amp-social-share>"
        f"<div class='article-text'>{body(c, lambda t: f'<p>{t}</p>', piece)}</div></article>"
        + (
            f"<amp-carousel type='slides' class='related'>{carousel}</amp-carousel>"
            if carousel
            else ""
        )
        + f"{_footer(site)}</body></html>"
    )


STYLES: dict[str, Callable[[Story, int], str]] = {
    "wordpress": wordpress,
    "bbc": bbc_like,
    "arc": arc_like,
    "legacy": legacy_table,
    "nextjs": nextjs,
    "ghost": ghost,
    "drupal": drupal,
    "amp": amp,
}
