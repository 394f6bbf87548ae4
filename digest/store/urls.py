"""Canonical URLs: the store keeps an article once, under one URL, however it was reached.

What changes and why (the stored URL is also the link readers click, so nothing is
changed that could break it):

- Tracking parameters go (``utm_*``, ``fbclid``, ``gclid``, ...; ``ref`` and ``source``
  only when their value is a referrer label such as ``rss`` or a host name).
- Scheme and host are lower-cased, a trailing dot and the default port dropped, a
  Unicode host written in IDNA. The scheme is kept: forcing ``https`` would break the
  link of an http-only site, and copies under both schemes share their text anyway.
- ``www.`` is kept: the bare domain of many sites does not answer, so dropping it could
  break the link; copies under both hosts are caught by the text hash and clustering.
- AMP and mobile variants map to the desktop page: ``amp.``/``m.``/``mobile.`` host
  labels are removed (``www.`` is put back when only the registrable domain is left,
  as news sites serve their desktop pages there), and so are a trailing ``/amp``,
  ``.amp.html``, ``?amp=1`` and Google's AMP cache wrappers.
- Remaining query parameters are sorted by name; percent-encoding is normalised
  (unreserved characters decoded, escapes upper-cased, other characters encoded);
  the fragment is dropped (except a ``#!`` route); user names and passwords dropped.
- A declared ``<link rel="canonical">`` is honoured when it is an absolute http(s) URL
  (or a root-relative path) on the same registrable domain as the page. One on another
  domain is ignored: articles are stored by canonical URL, so honouring it would let one
  source claim and overwrite another source's article; syndicated copies are grouped by
  clustering instead.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from ipaddress import ip_address
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

TRACKING = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "igshid", "igsh", "li_fat_id", "mc_cid", "mc_eid", "_ga",
        "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid",
        "s_cid", "vero_conv", "vero_id", "wickedid", "ncid", "sr_share", "ref_src",
        "ref_url", "cmpid", "cmp", "amp",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "hsa_", "pk_", "mtm_", "matomo_")
REFERRER_KEYS = frozenset({"ref", "source", "src"})
REFERRER_LABELS = frozenset(
    {
        "rss", "feed", "feeds", "atom", "newsletter", "email", "mail", "social", "share",
        "twitter", "x", "facebook", "fb", "linkedin", "reddit", "hn", "hackernews",
        "mastodon", "bluesky", "whatsapp", "telegram", "homepage", "home", "frontpage",
        "app", "push", "flipboard", "google", "googlenews", "yahoo", "msn", "nav",
    }
)  # fmt: skip
VARIANT_LABELS = frozenset({"m", "mobile", "amp"})
DEFAULT_PORTS = {"http": 80, "https": 443}
UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
PATH_SAFE = "!$&'()*+,;=:@/%"
ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
GOOGLE_AMP = re.compile(r"^/amp/(s/)?([^/]+\.[^/]+(?:/.*)?)$")
AMPPROJECT = re.compile(r"^/[cvi]/(s/)?([^/]+\.[^/]+(?:/.*)?)$")
_PSL = PublicSuffixList()


def canonical_url(url: str, declared: str = "") -> str:
    """The URL under which an article is stored; see the module's docstring for the rules."""
    own = normalise_url(url)
    if declared.strip():
        claimed = normalise_url(_resolve(url, declared.strip()))
        if _may_claim(own, claimed):
            return claimed
    return own


def normalise_url(url: str) -> str:
    """``url`` in canonical form; anything not an http(s) URL comes back stripped."""
    url = url.strip()
    try:
        return _normalise(url, unwrap=True)
    except ValueError:
        return url


def _normalise(url: str, *, unwrap: bool) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = _host(parts.hostname)
    path = _path(parts.path)
    if unwrap:
        wrapped = _amp_cache(host, path)
        if wrapped:
            inner = ("https://" if wrapped.group(1) else "http://") + wrapped.group(2)
            return _normalise(inner + (f"?{parts.query}" if parts.query else ""), unwrap=False)
    port = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, path, _query(parts.query), _escape(fragment)))


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    if _is_ip(host):
        return host
    domain = _registrable(host)
    if not domain or host == domain:
        return host
    labels = host[: -len(domain) - 1].split(".")
    kept = [label for label in labels if label not in VARIANT_LABELS]
    if kept == labels:
        return host
    return ".".join([*(kept or ["www"]), domain])


def _path(path: str) -> str:
    path = _escape(
        _remove_dot_segments("/" + path.lstrip("/") if not path.startswith("/") else path)
    )
    while True:
        if path.endswith(("/amp", "/amp/")) and path.rstrip("/") != "/amp":
            path = path[: path.rstrip("/").rfind("/")] or "/"
        elif path.endswith(".amp.html"):
            path = path[: -len(".amp.html")] + ".html"
        else:
            return path


def _query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _tracking(k, v)]
    pairs.sort(key=lambda pair: pair[0])
    return urlencode(pairs, quote_via=quote)


def _tracking(key: str, value: str) -> bool:
    name = key.lower()
    if name in TRACKING or name.startswith(TRACKING_PREFIXES):
        return True
    label = value.strip().lower()
    if name == "outputtype":
        return label == "amp"
    return name in REFERRER_KEYS and (label in REFERRER_LABELS or _looks_like_host(label))


def _looks_like_host(value: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value)) and bool(_registrable(value))


def _escape(text: str) -> str:
    """Percent-encoding in one form: unreserved characters plain, other escapes upper-case."""
    text = STRAY_PERCENT.sub("%25", text)

    def _one(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in UNRESERVED else "%" + match.group(1).upper()

    return quote(ESCAPE.sub(_one, text), safe=PATH_SAFE)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on a path that starts with a slash."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
            continue
        if last:
            out.append("")
    return "/" + "/".join(out)


def _resolve(url: str, declared: str) -> str:
    """An absolute declared URL as it is; a root-relative one ("/news/x") on the page's host."""
    if declared.startswith("/") and not declared.startswith("//"):
        try:
            parts = urlsplit(url)
        except ValueError:
            return declared
        if parts.scheme in DEFAULT_PORTS and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}{declared}"
    return declared


def _may_claim(own: str, claimed: str) -> bool:
    """A declared canonical counts when it is http(s) on the page's registrable domain."""
    try:
        page, target = urlsplit(own), urlsplit(claimed)
    except ValueError:
        return False
    if target.scheme not in DEFAULT_PORTS or not target.hostname:
        return False
    if page.scheme not in DEFAULT_PORTS or not page.hostname:
        return bool(_registrable(target.hostname))  # nothing to compare with
    if _is_ip(target.hostname) or _is_ip(page.hostname):
        return target.hostname == page.hostname
    mine = _registrable(page.hostname)
    return bool(mine) and mine == _registrable(target.hostname)


def _amp_cache(host: str, path: str) -> re.Match[str] | None:
    """Google's AMP viewer and the AMP cache wrap the publisher's URL in their own."""
    if host.endswith(".cdn.ampproject.org"):
        return AMPPROJECT.match(path)
    if host in {"www.google.com", "google.com"}:
        return GOOGLE_AMP.match(path)
    return None


@lru_cache(maxsize=4096)
def _registrable(host: str) -> str:
    if not host or _is_ip(host):
        return ""
    return _PSL.privatesuffix(host) or ""


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True
