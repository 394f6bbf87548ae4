"""Every setting Digest reads, declared once with its default and help.

The configuration file is TOML.  Each dataclass below is one table of it;
the CLI's ``digest settings`` and ``docs/settings.md`` are made from these
declarations, and a test checks that the docs name every one of them.
Secrets never live in the file: they come from the environment and are
wrapped in :class:`Secret`, whose ``repr`` is stars.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

BACKENDS = ("outbox", "smtp", "sendgrid")
SENDERS = ("self", "workers")  # who sends a recorded edition ([digest] send)
# A subscriber's statuses, as the subscribers package stores them (a test keeps them equal).
STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
GMAIL_CLIP_BYTES = 102_000  # Gmail clips an email whose HTML is larger (102 KB)


class Secret:
    """A value that must never be printed; ``str()`` and ``repr()`` hide it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def env_secret(name: str) -> Secret:
    """Read a secret from the environment; empty when unset."""
    return Secret(os.environ.get(name, ""))


def setting(default: Any, help: str, *, factory: bool = False) -> Any:
    """Declare one setting: its default and the help text shown everywhere."""
    if factory:
        return field(default_factory=default, metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class GeneralSettings:
    """Table ``[digest]``: where state lives and how sending happens."""

    database_url: str = setting(
        "",
        "SQLAlchemy URL of the store. Empty means a SQLite file digest.db next to the config file.",
    )
    outbox_dir: str = setting(
        "outbox", "Folder for the outbox backend's .eml files, relative to the config file."
    )
    templates_dir: str = setting(
        "", "Your own templates folder, searched before the bundled templates. Relative to config."
    )
    backend: str = setting("outbox", "Delivery backend: outbox, smtp or sendgrid.")
    timezone: str = setting(
        "UTC",
        "IANA time zone of dates in emails, and of each segment's schedule unless the segment "
        "sets its own timezone.",
    )
    batch_size: int = setting(1000, "Recipients per delivery batch (at most 1000).")
    concurrency: int = setting(4, "Batches in flight at once, each worker with its own connection.")
    processes: int = setting(
        1,
        "Worker processes that share a large edition's batches (set it to the number of "
        "cores: building requests is CPU work); 1 sends from the running process.",
    )
    send: str = setting(
        "self",
        "Who sends a recorded edition: self (digest run and digest send send it) or workers "
        "(they record it and leave the sending to `digest worker` processes).",
    )
    in_doubt: str = setting(
        "resend",
        "What to do with a batch a crashed sender may have handed over: resend or skip.",
    )
    claim_timeout: float = setting(
        900.0, "Seconds after which another host's unfinished batch claim counts as abandoned."
    )
    max_html_bytes: int = setting(
        90_000,
        "Largest HTML part, in bytes as sent: quoted-printable, with the longest reader values "
        "and every link grown by link_tracking_bytes. Gmail clips an email over 102 KB; an "
        "edition over this leaves out its last items. The default keeps a margin.",
    )
    link_tracking_bytes: int = setting(
        100,
        "Bytes the provider's click tracking may add to each link of the HTML part (SendGrid "
        "rewrites every link); 0 when nothing rewrites links.",
    )


@dataclass(frozen=True)
class SenderSettings:
    """Table ``[sender]``: who the digest comes from (required by CAN-SPAM and Gmail)."""

    name: str = setting("Digest", "Display name in the From header.")
    email: str = setting("", "From address. Required.")
    reply_to: str = setting("", "Reply-To address; empty for none.")
    postal_address: str = setting("", "Postal address printed in every footer. Required.")
    base_url: str = setting(
        "", "Public HTTPS base URL of the Digest web app, for unsubscribe and preferences links."
    )
    unsubscribe_mailto: str = setting(
        "", "Address for mailto: unsubscribes; empty means unsubscribe@ the sender's domain."
    )


@dataclass(frozen=True)
class SmtpSettings:
    """Table ``[smtp]``; the password comes from ``DIGEST_SMTP_PASSWORD``."""

    host: str = setting("localhost", "SMTP server host.")
    port: int = setting(587, "SMTP server port.")
    security: str = setting("starttls", "starttls, ssl or none.")
    username: str = setting("", "SMTP user name; empty for no authentication.")
    timeout: float = setting(30.0, "Seconds to wait for the SMTP server.")
    ca_file: str = setting(
        "", "CA bundle (relative to config) to verify the server; empty for system CAs."
    )


@dataclass(frozen=True)
class SendGridSettings:
    """Table ``[sendgrid]``; the key comes from ``SENDGRID_API_KEY``."""

    host: str = setting(
        "https://api.sendgrid.com",
        "API host (scheme and host only); SENDGRID_API_HOST in the environment overrides it.",
    )
    timeout: float = setting(30.0, "Seconds before a request to SendGrid is abandoned.")
    retries: int = setting(6, "Attempts per batch on 429, 5xx and timeouts before giving up.")
    backoff_seconds: float = setting(
        0.5, "First wait between attempts; doubles each time, with jitter (429 Reset wins)."
    )


@dataclass(frozen=True)
class AudienceSettings:
    """Table ``[audience]``: where subscribers come from."""

    subscribers_file: str = setting(
        "",
        "CSV of subscribers merged into the store at each run, send and scheduled job, relative "
        "to config; optional. New addresses are added; known ones get the columns the file has; "
        "a reader's lists gain the file's lists and lose none (see replace_lists). Never "
        "re-activates an unsubscribed, bounced, complained or erased address, and leaves the "
        "lists, tags and frequency of a reader who saved the preferences page. A bad row is "
        "skipped with a line; a file that cannot be used at all is one error line, merges "
        "nothing, and the run does the rest and exits 1.",
    )
    replace_lists: bool = setting(
        False,
        "Make each reader's lists exactly those of their row in subscribers_file, removing "
        "them from the lists it does not name; the run says how many memberships it removed.",
    )


@dataclass(frozen=True)
class IntakeSettings:
    """Table ``[intake]``: how sources are fetched, cleaned and grouped into stories."""

    timeout: float = setting(20.0, "Seconds before a request to a source is abandoned.")
    max_bytes: int = setting(20_000_000, "Largest response accepted from a source, in bytes.")
    host_delay: float = setting(1.0, "Seconds between two requests to the same host.")
    max_failures: int = setting(5, "Consecutive failures after which a source is paused.")
    allow_hosts: tuple[str, ...] = setting(
        (), "Hosts that may resolve to private, loopback or link-local addresses."
    )
    tag_synonyms: dict[str, str] = setting(
        dict,
        'Tag → canonical tag after normalisation, e.g. {us-politics = "politics"}.',
        factory=True,
    )
    cluster_threshold: float = setting(
        0.4, "Similarity (0–1) from which two articles count as the same story."
    )


@dataclass(frozen=True)
class WebSettings:
    """Table ``[web]``: the public pages of `digest serve` and the SendGrid Event Webhook."""

    host: str = setting("127.0.0.1", "Interface `digest serve` listens on (--host overrides it).")
    port: int = setting(8000, "Port `digest serve` listens on (--port overrides it).")
    proxy_ips: tuple[str, ...] = setting(
        ("127.0.0.1",), "Reverse proxies whose X-Forwarded-For names the client's address."
    )
    ip_limit: int = setting(10, "Sign-up requests one IP address may make per rate_window.")
    address_limit: int = setting(3, "Sign-up requests for one email address per rate_window.")
    rate_window: float = setting(3600.0, "Seconds over which the sign-up limits refill.")
    confirm_max_age: float = setting(
        172800.0, "Seconds a confirmation link stays valid (two days by default)."
    )
    unconfirmed_days: float = setting(
        7.0,
        "Days after its last sign-up request that an address never confirmed is deleted "
        "(`digest serve` checks at start and hourly); 0 keeps them. Rows imported as "
        "pending are never deleted.",
    )
    public_lists: tuple[str, ...] = setting(
        (), "Lists offered on the sign-up and preferences pages; empty means every segment's."
    )
    frequencies: tuple[str, ...] = setting(
        ("daily", "weekly", "monthly"),
        "Frequencies a subscriber may choose on the preferences page.",
    )
    webhook_replay_window: float = setting(
        600.0, "Seconds a signed webhook post stays acceptable; older or later ones get 403."
    )
    unsigned_webhooks: bool = setting(
        False,
        "Accept unsigned webhook posts when SENDGRID_WEBHOOK_PUBLIC_KEY is unset (testing only).",
    )


@dataclass(frozen=True)
class DeskSettings:
    """Table ``[desk]``: the editors' desk under ``<base_url path>/desk/`` in `digest serve`."""

    session_idle_minutes: float = setting(
        120.0, "Minutes of inactivity after which an editor must sign in again."
    )
    login_limit: int = setting(
        5, "Sign-in attempts one address, or one client, may make per login_window."
    )
    login_window: float = setting(900.0, "Seconds over which the sign-in limits refill.")
    notify: tuple[str, ...] = setting(
        (), "Editors' addresses told by email when an edition waits for approval."
    )
    test_recipients: int = setting(
        5, "Most addresses one test send may go to (the editor's own is the default)."
    )


@dataclass(frozen=True)
class DesignSettings:
    """Table ``[design]``: the masthead and the brand of every email."""

    wordmark: str = setting("", "Text of the masthead's wordmark; empty means [sender] name.")
    logo_url: str = setting(
        "",
        "HTTPS address of a logo shown in place of the wordmark's text; empty for none. "
        "Use a logo that reads on light and dark backgrounds (not an image of a sentence).",
    )
    logo_alt: str = setting(
        "", "The logo's alt text, read when images are off; empty means the wordmark."
    )
    logo_width: int = setting(200, "The logo's width in the email, in pixels (at most 552).")
    logo_height: int = setting(
        0, "The logo's height in pixels at logo_width; 0 lets the client work it out."
    )
    brand_color: str = setting(
        "#0b4f8a",
        "Brand colour (#rrggbb) of headlines, links and the masthead's rule. It must keep "
        "text readable: contrast at least 4.5:1 on white; dark mode uses a lightened tint.",
    )


SOURCE_KINDS = ("feed", "wordpress", "folder", "page")
SUMMARY_SOURCES = ("auto", "feed", "article")  # where an item's summary comes from


@dataclass(frozen=True)
class SourceSettings:
    """One ``[sources.NAME]`` table: a feed, a WordPress site, a folder or a web page."""

    name: str = setting("", "The source's name (the table's key).")
    kind: str = setting("feed", "feed, wordpress, folder or page.")
    url: str = setting("", "URL (http or https) of the feed, site or page. Give url or path.")
    path: str = setting("", "Local file or folder, relative to the config file. Give url or path.")
    title: str = setting("", "Display name of the outlet; empty means the source's own title.")
    teaser: bool = setting(False, "The feed carries teasers: fetch each entry's page for its text.")
    allow_private: bool = setting(
        False, "Let this source reach private, loopback or link-local addresses."
    )
    weight: float = setting(1.0, "How much this source's articles count in ranking.")
    summary_source: str = setting(
        "article",
        "Where its items' summaries come from: \"article\" makes them from the article's text; "
        "\"feed\" uses the publisher's standfirst (the feed's summary or the page's "
        'og:description) whenever there is one; "auto" uses the standfirst when it is a real '
        "sentence about the story that fits summary_words and opens cleanly, else the "
        "article's. A segment's summary_source overrides it.",
    )


@dataclass(frozen=True)
class SegmentSettings:
    """One ``[segments.NAME]`` table; unset keys come from ``[defaults]``."""

    name: str = setting("", "The segment's name (the table's key).")
    title: str = setting("", "Heading of the digest; empty means the name in title case.")
    lists: tuple[str, ...] = setting(
        (), "Audience: subscribers on any of these lists. Empty with no rule means everyone."
    )
    where: dict[str, str] = setting(
        dict, "Audience rule: subscriber attributes that must all equal these values.", factory=True
    )
    status: tuple[str, ...] = setting(
        ("active",),
        "Audience rule: subscriber statuses counted by `digest segments`; only active "
        "subscribers are ever sent to, whatever this says.",
    )
    follows_any: tuple[str, ...] = setting((), "Audience rule: follows at least one of these tags.")
    follows_all: tuple[str, ...] = setting((), "Audience rule: follows every one of these tags.")
    follows_none: tuple[str, ...] = setting((), "Audience rule: follows none of these tags.")
    frequency: tuple[str, ...] = setting(
        (), 'Audience rule: chose one of these frequencies; "" matches those who chose none.'
    )
    attribute_in: dict[str, tuple[str, ...]] = setting(
        dict,
        'Audience rule: attribute → allowed values, e.g. {plan = ["pro", "team"]}; '
        '"" matches an unset attribute.',
        factory=True,
    )
    attribute_exists: tuple[str, ...] = setting(
        (), "Audience rule: attributes that must be set (present and not empty)."
    )
    signed_up_after: str = setting(
        "", "Audience rule: signed up on or after this ISO date or date-time (UTC without offset)."
    )
    signed_up_before: str = setting(
        "", "Audience rule: signed up before this ISO date or date-time (UTC without offset)."
    )
    include_tags: tuple[str, ...] = setting((), "Articles with any of these tags; empty means all.")
    exclude_tags: tuple[str, ...] = setting((), "Articles with any of these tags are left out.")
    max_items: int = setting(10, "Most items in one edition.")
    lookback_days: float = setting(7.0, "Only articles published within this many days.")
    summary_words: int = setting(60, "Word budget of each item's summary.")
    half_life_hours: float = setting(
        24.0,
        "Ranking: an article's recency counts half after this many hours, a quarter after two.",
    )
    max_per_source: int = setting(0, "Most items from one source in an edition; 0 means no cap.")
    diversity: float = setting(
        0.3,
        "Ranking trade-off, 0 to 1: 0 ranks by score alone; higher passes over items whose tags "
        "overlap those already picked (maximal marginal relevance).",
    )
    min_items: int = setting(
        1, "Send only with at least this many new items; fewer wait for the next run."
    )
    schedule: str = setting(
        "0 7 * * *",
        "Cron expression (5 fields) of the segment's slots, read in its timezone: `digest run` "
        "from cron and `digest schedule` send an edition when a slot has come (`digest due`).",
    )
    timezone: str = setting(
        "",
        'IANA time zone the schedule is read in, e.g. "America/New_York"; empty means '
        "[digest] timezone.",
    )
    catch_up: int = setting(
        720,
        "Minutes after a slot within which a missed slot is still sent (720 = 12 hours): one "
        "edition for any number of missed slots. A slot missed by longer is reported once and "
        "skipped; the next slot sends.",
    )
    subject: str = setting(
        "",
        "Subject line; {title}, {top_headline}, {count}, {date} fill in. Empty: the top "
        "story's headline, cut at a word boundary to 60 characters (the From name already "
        "names the newsletter).",
    )
    approval: str = setting(
        "none",
        'Whether an edition waits for an editor: "none" sends as scheduled; "required" '
        "holds the composed edition until an editor approves it (`digest approve` or the desk).",
    )
    approval_deadline: float = setting(
        0.0,
        "Minutes after the scheduled time (or after the edition was held, when that was later) "
        "after which an edition still waiting for approval gets on_deadline; 0 waits for an "
        "editor however long it takes.",
    )
    on_deadline: str = setting(
        "skip", 'What a held edition gets at its approval_deadline: "send" or "skip".'
    )
    archive: bool = setting(
        False,
        "Publish each sent edition, without any reader's data, under "
        "<base_url path>/archive/<segment>/ with a list page and an Atom feed; every email "
        'carries a "View in browser" link to its page.',
    )
    personalised: bool = setting(
        False,
        "Each reader gets only the items in the tags they follow (everything when they follow "
        "none); readers who follow the same tags share one render.",
    )
    deliver_at: str = setting(
        "segment",
        'When each reader gets a scheduled edition: "segment" sends to everyone at the '
        "schedule's time; \"local\" at that wall-clock time in each reader's own time zone "
        "(readers with none, or one not known, get the segment's), in waves from one edition "
        "composed at the earliest zone's time. An unscheduled run sends to everyone at once.",
    )
    images: str = setting(
        "lead",
        'Article images in the email: "lead" on the lead story only, "all" adds thumbnails '
        'to the other items, "none" shows none. The email reads the same with images off.',
    )
    lead_summary_words: int = setting(
        90,
        "Word budget of the lead story's summary (the first item's); the others get summary_words.",
    )
    sections: dict[str, str] = setting(
        dict,
        "Sections by tag for a segment that mixes topics, in the order written: tag → "
        'section title, e.g. {politics = "Politics", europe = "Europe"}. After the lead '
        "story each item goes under the first of these sections whose tag it has, the rest "
        'under "More stories"; empty lists the items in order without sections.',
        factory=True,
    )
    summary_source: str = setting(
        "",
        "Where the items' summaries come from, overriding each source's summary_source: "
        '"auto", "feed" or "article"; empty leaves it to each source.',
    )
    from_name: str = setting(
        "", "Display name in the From header of this segment's emails; empty means [sender] name."
    )


def moment(text: str) -> datetime | None:
    """An ISO date or date-time from the config; UTC when it has no offset; None when "".

    Raises ``ValueError`` for anything else (config loading reports it).
    """
    if not text:
        return None
    when = datetime.fromisoformat(text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


AUDIENCE_KEYS = frozenset(
    {
        "lists",
        "where",
        "status",
        "follows_any",
        "follows_all",
        "follows_none",
        "frequency",
        "attribute_in",
        "attribute_exists",
        "signed_up_after",
        "signed_up_before",
    }
)
"""A segment's audience is its own: these keys are not taken from ``[defaults]``."""

SEGMENT_DEFAULT_KEYS = frozenset(
    f.name for f in fields(SegmentSettings) if f.name not in {"name", "title", *AUDIENCE_KEYS}
)

TABLES: dict[str, type] = {
    "digest": GeneralSettings,
    "sender": SenderSettings,
    "smtp": SmtpSettings,
    "sendgrid": SendGridSettings,
    "audience": AudienceSettings,
    "intake": IntakeSettings,
    "web": WebSettings,
    "desk": DeskSettings,
    "design": DesignSettings,
    "defaults": SegmentSettings,
    "sources.NAME": SourceSettings,
    "segments.NAME": SegmentSettings,
}

ENVIRONMENT: dict[str, str] = {
    "SENDGRID_API_KEY": "SendGrid API key (secret).",
    "SENDGRID_API_HOST": "Overrides [sendgrid] host, for a stand-in or a regional host.",
    "DIGEST_SMTP_PASSWORD": "SMTP password (secret).",
    "DIGEST_SECRET_KEY": "Key that signs unsubscribe and preferences tokens (secret); "
    "empty means one generated once and kept in the store.",
    "SENDGRID_WEBHOOK_PUBLIC_KEY": "SendGrid's Event Webhook verification key (base64 DER, "
    "as SendGrid shows it); when set, unsigned or badly signed webhook posts get 403.",
}


def describe() -> list[tuple[str, str, str, str]]:
    """Rows of (table, key, default, help) for every setting."""
    rows: list[tuple[str, str, str, str]] = []
    for table, cls in TABLES.items():
        for f in fields(cls):
            if f.name == "name" and table.endswith(".NAME"):
                continue  # the table's key, not a setting (``[sender] name`` is one)
            if table == "defaults" and f.name not in SEGMENT_DEFAULT_KEYS:
                continue
            default = f.default_factory() if f.default is MISSING else f.default  # type: ignore[operator]
            rows.append((table, f.name, repr(default), f.metadata["help"]))
    return rows


def settings_text() -> str:
    lines = [f"[{table}] {key} = {default}\n    {text}" for table, key, default, text in describe()]
    lines += [f"${name}\n    {text}" for name, text in ENVIRONMENT.items()]
    return "\n".join(lines) + "\n"


def settings_markdown() -> str:
    """The settings reference, docs/settings.md, made from the declarations above."""
    out = [
        "# Settings",
        "",
        "Digest reads one TOML file (`--config`, default `$DIGEST_CONFIG` or `digest.toml`).",
        "Paths are relative to that file. `[defaults]` holds the defaults of every segment;",
        "a `[segments.NAME]` table overrides them. This page is made by",
        "`digest settings --markdown`; a test keeps it in step with the code.",
    ]
    table = None
    for name, key, default, text in describe():
        if name != table:
            table = name
            out += ["", f"## `[{name}]`", "", "| setting | default | meaning |", "|---|---|---|"]
        out.append(f"| `{key}` | `{default}` | {text} |")
    out += ["", "## Environment", "", "| variable | meaning |", "|---|---|"]
    out += [f"| `{name}` | {text} |" for name, text in ENVIRONMENT.items()]
    return "\n".join(out) + "\n"
