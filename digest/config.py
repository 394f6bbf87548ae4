"""Load a TOML configuration file into typed, validated settings."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from digest.colours import READABLE, WHITE, contrast, normalise
from digest.errors import ConfigError, ConfigNotFoundError, UnknownSegmentError
from digest.settings import (
    BACKENDS,
    GMAIL_CLIP_BYTES,
    SEGMENT_DEFAULT_KEYS,
    SENDERS,
    SOURCE_KINDS,
    STATUSES,
    SUMMARY_SOURCES,
    AudienceSettings,
    DesignSettings,
    DeskSettings,
    GeneralSettings,
    IntakeSettings,
    SegmentSettings,
    SenderSettings,
    SendGridSettings,
    SmtpSettings,
    SourceSettings,
    WebSettings,
    moment,
)

APPROVALS = ("none", "required")
IMAGES = ("lead", "all", "none")
DEADLINE_OUTCOMES = ("send", "skip")
DELIVER_AT = ("segment", "local")
DATE_KEYS = frozenset({"signed_up_after", "signed_up_before"})
T = TypeVar("T")


@dataclass(frozen=True)
class Config:
    """A loaded configuration; paths in it are resolved against ``base_dir``."""

    path: Path
    general: GeneralSettings
    sender: SenderSettings
    smtp: SmtpSettings
    sendgrid: SendGridSettings
    audience: AudienceSettings
    intake: IntakeSettings
    sources: tuple[SourceSettings, ...]
    segments: dict[str, SegmentSettings]
    web: WebSettings = field(default_factory=WebSettings)
    desk: DeskSettings = field(default_factory=DeskSettings)
    design: DesignSettings = field(default_factory=DesignSettings)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def database_url(self) -> str:
        if self.general.database_url:
            return self.general.database_url
        return f"sqlite:///{self.base_dir / 'digest.db'}"

    @property
    def outbox_dir(self) -> Path:
        return self.resolve(self.general.outbox_dir)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.general.timezone)

    def segment_zone(self, name: str) -> ZoneInfo:
        """The time zone the segment's schedule is read in (its own, or [digest] timezone)."""
        return ZoneInfo(self.segment(name).timezone or self.general.timezone)

    @property
    def segment_lists(self) -> frozenset[str]:
        """The lists that some segment sends to."""
        return frozenset(name for segment in self.segments.values() for name in segment.lists)

    def resolve(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    def segment(self, name: str) -> SegmentSettings:
        try:
            return self.segments[name]
        except KeyError:
            raise UnknownSegmentError(name, list(self.segments)) from None


def load_config(path: str | Path) -> Config:
    """Read and validate the file; raise :class:`ConfigError` naming what to fix."""
    path = Path(path).resolve()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigNotFoundError(
            f"{path}: config file not found; pass --config PATH or set DIGEST_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config file ({e})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e}); fix the syntax there") from e
    return _build(path, raw)


def _build(path: Path, raw: dict[str, Any]) -> Config:
    where = str(path)
    known = {
        "digest",
        "sender",
        "smtp",
        "sendgrid",
        "audience",
        "intake",
        "web",
        "desk",
        "design",
        "defaults",
        "sources",
        "segments",
    }
    _check_keys(where, "", raw, known)
    defaults = _table(raw, "defaults", where)
    _check_keys(where, "defaults", defaults, SEGMENT_DEFAULT_KEYS)
    _make(SegmentSettings, defaults, f"{where} [defaults]")  # a bad value is where it was written
    tables = {
        name: _subtable(body, where, f"segments.{name}")
        for name, body in _table(raw, "segments", where).items()
    }
    config = Config(
        path=path,
        general=_make(GeneralSettings, _table(raw, "digest", where), f"{where} [digest]"),
        sender=_make(SenderSettings, _table(raw, "sender", where), f"{where} [sender]"),
        smtp=_make(SmtpSettings, _table(raw, "smtp", where), f"{where} [smtp]"),
        sendgrid=_make(SendGridSettings, _table(raw, "sendgrid", where), f"{where} [sendgrid]"),
        audience=_make(AudienceSettings, _table(raw, "audience", where), f"{where} [audience]"),
        intake=_make(IntakeSettings, _table(raw, "intake", where), f"{where} [intake]"),
        web=_make(WebSettings, _table(raw, "web", where), f"{where} [web]"),
        desk=_make(DeskSettings, _table(raw, "desk", where), f"{where} [desk]"),
        design=_make(DesignSettings, _table(raw, "design", where), f"{where} [design]"),
        sources=tuple(
            _make(SourceSettings, {**body, "name": name}, f"{where} [sources.{name}]")
            for name, body in _table(raw, "sources", where).items()
        ),
        segments={
            name: _make(
                SegmentSettings, {**defaults, **body, "name": name}, f"{where} [segments.{name}]"
            )
            for name, body in tables.items()
        },
    )
    inherited = {name: set(defaults) - set(body) for name, body in tables.items()}
    _validate(config, inherited)
    return config


def _table(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    return _subtable(raw.get(key, {}), where, key)


def _subtable(value: Any, where: str, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    return value


def _check_keys(
    where: str, table: str, body: dict[str, Any], allowed: set[str] | frozenset[str]
) -> None:
    for key in body:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            place = f"[{table}] " if table else ""
            raise ConfigError(f"{where}: unknown setting {place}{key!r}{hint}")


def _make(cls: type[T], body: dict[str, Any], where: str) -> T:
    declared = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    _check_keys(where, "", body, set(declared))
    values: dict[str, Any] = {}
    for key, value in body.items():
        if key in DATE_KEYS and isinstance(value, date | time):
            value = value.isoformat()  # an unquoted TOML date reads as one, not a string
        values[key] = _coerce(value, declared[key].type, f"{where} {key}")
    return cls(**values)


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    kind = str(annotation)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if (
        kind.startswith("tuple")
        and isinstance(value, list)
        and all(isinstance(v, str) for v in value)
    ):
        return tuple(value)
    if kind == "dict[str, tuple[str, ...]]":
        if isinstance(value, dict) and all(
            isinstance(v, list) and all(isinstance(each, str) for each in v) for v in value.values()
        ):
            return {str(k): tuple(v) for k, v in value.items()}
        raise ConfigError(
            f'{where}: expected a table of lists of strings, e.g. {{plan = ["pro"]}}, got {value!r}'
        )
    if kind.startswith("dict") and isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    expected = {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "true or false",
    }.get(kind, "a list of strings" if kind.startswith("tuple") else "a table")
    raise ConfigError(f"{where}: expected {expected}, got {value!r}")


def _validate(config: Config, inherited: dict[str, set[str]]) -> None:
    """``inherited`` names, per segment, the keys it took from ``[defaults]``: a bad value
    there is reported against ``[defaults]``, where it was written."""
    where = str(config.path)

    def table(segment: SegmentSettings, key: str) -> str:
        return "[defaults]" if key in inherited[segment.name] else f"[segments.{segment.name}]"

    if config.general.backend not in BACKENDS:
        raise ConfigError(
            f"{where} [digest] backend: {config.general.backend!r} is not one of "
            + ", ".join(BACKENDS)
        )
    if config.general.send not in SENDERS:
        raise ConfigError(
            f"{where} [digest] send: {config.general.send!r} is not one of " + ", ".join(SENDERS)
        )
    if not 1 <= config.general.batch_size <= 1000:
        raise ConfigError(f"{where} [digest] batch_size: must be between 1 and 1000")
    if not 0 < config.general.max_html_bytes <= GMAIL_CLIP_BYTES:
        raise ConfigError(
            f"{where} [digest] max_html_bytes: must be above 0 and at most {GMAIL_CLIP_BYTES} "
            "(Gmail clips a larger email)"
        )
    if config.general.link_tracking_bytes < 0:
        raise ConfigError(f"{where} [digest] link_tracking_bytes: must be 0 or more")
    try:
        ZoneInfo(config.general.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where} [digest] timezone: unknown time zone {config.general.timezone!r}; "
            "use an IANA name such as Europe/London"
        ) from None
    for key in ("email", "postal_address", "base_url"):
        if not getattr(config.sender, key):
            raise ConfigError(f"{where} [sender] {key}: required, please set it")
    if not config.sender.base_url.startswith(("https://", "http://")):
        raise ConfigError(f"{where} [sender] base_url: must start with https://")
    for source in config.sources:
        if source.kind not in SOURCE_KINDS:
            raise ConfigError(
                f"{where} [sources.{source.name}] kind: {source.kind!r} is not one of "
                + ", ".join(SOURCE_KINDS)
            )
        if bool(source.url) == bool(source.path):
            raise ConfigError(f"{where} [sources.{source.name}]: give exactly one of url or path")
        if source.kind == "wordpress" and not source.url:
            raise ConfigError(f"{where} [sources.{source.name}]: a wordpress source needs a url")
        if source.summary_source not in SUMMARY_SOURCES:
            raise ConfigError(
                f"{where} [sources.{source.name}] summary_source: {source.summary_source!r} is "
                "not one of " + ", ".join(repr(a) for a in SUMMARY_SOURCES)
            )
    _validate_design(config.design, f"{where} [design]")
    if not 0 < config.intake.cluster_threshold <= 1:
        raise ConfigError(f"{where} [intake] cluster_threshold: must be above 0 and at most 1")
    if not config.segments:
        raise ConfigError(f"{where}: define at least one [segments.NAME] table")
    for segment in config.segments.values():
        problem = check_cron(segment.schedule)
        if problem:
            raise ConfigError(f"{where} {table(segment, 'schedule')} schedule: {problem}")
        if segment.timezone:
            try:
                ZoneInfo(segment.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{where} {table(segment, 'timezone')} timezone: unknown time zone "
                    f"{segment.timezone!r} for segment {segment.name}; use an IANA name such as "
                    "Europe/London, or leave it empty for [digest] timezone"
                ) from None
        if segment.catch_up < 0:
            raise ConfigError(f"{where} {table(segment, 'catch_up')} catch_up: minutes, 0 or more")
        if segment.max_items < 1:
            raise ConfigError(
                f"{where} {table(segment, 'max_items')} max_items: must be at least 1"
            )
        for key, allowed in (
            ("approval", APPROVALS),
            ("on_deadline", DEADLINE_OUTCOMES),
            ("deliver_at", DELIVER_AT),
        ):
            value = getattr(segment, key)
            if value not in allowed:
                raise ConfigError(
                    f"{where} {table(segment, key)} {key}: {value!r} is not one of "
                    + ", ".join(repr(a) for a in allowed)
                )
        if segment.images not in IMAGES:
            raise ConfigError(
                f"{where} {table(segment, 'images')} images: {segment.images!r} is not one of "
                + ", ".join(repr(i) for i in IMAGES)
            )
        if segment.lead_summary_words < 1:
            raise ConfigError(
                f"{where} {table(segment, 'lead_summary_words')} lead_summary_words: "
                "must be at least 1"
            )
        if segment.summary_source not in ("", *SUMMARY_SOURCES):
            raise ConfigError(
                f"{where} {table(segment, 'summary_source')} summary_source: "
                f"{segment.summary_source!r} is not one of "
                + ", ".join(repr(a) for a in SUMMARY_SOURCES)
            )
        if segment.approval_deadline < 0:
            raise ConfigError(
                f"{where} {table(segment, 'approval_deadline')} approval_deadline: minutes, "
                "0 or more"
            )
        _validate_audience(config, segment, f"{where} [segments.{segment.name}]")


def _validate_design(design: DesignSettings, where: str) -> None:
    try:
        colour = normalise(design.brand_color)
    except ValueError as e:
        raise ConfigError(f"{where} brand_color: {e}") from None
    ratio = contrast(colour, WHITE)
    if ratio < READABLE:
        raise ConfigError(
            f"{where} brand_color: {colour} on white has contrast {ratio:.1f}:1, below "
            f"{READABLE}:1; links and headlines in it would be hard to read, choose a darker shade"
        )
    if design.logo_url and not design.logo_url.startswith("https://"):
        raise ConfigError(f"{where} logo_url: must start with https://")
    if not 1 <= design.logo_width <= 552:
        raise ConfigError(f"{where} logo_width: pixels, from 1 to 552")
    if design.logo_height < 0:
        raise ConfigError(f"{where} logo_height: pixels, 0 or more")


def _validate_audience(config: Config, segment: SegmentSettings, where: str) -> None:
    if not segment.status:
        raise ConfigError(f'{where} status: name at least one status, e.g. ["active"]')
    for name in segment.status:
        if name not in STATUSES:
            raise ConfigError(f"{where} status: {name!r} is not one of " + ", ".join(STATUSES))
    for name in segment.frequency:
        if name and name not in config.web.frequencies:
            raise ConfigError(
                f"{where} frequency: {name!r} is not one of [web] frequencies ("
                + ", ".join(config.web.frequencies)
                + '), or "" for none chosen'
            )
    for key, allowed in segment.attribute_in.items():
        if not allowed:
            raise ConfigError(f"{where} attribute_in: {key!r} needs at least one value")
    moments: dict[str, datetime | None] = {}
    for key in sorted(DATE_KEYS):
        text = getattr(segment, key)
        try:
            moments[key] = moment(text)
        except ValueError:
            raise ConfigError(
                f"{where} {key}: {text!r} is not an ISO date or date-time such as 2024-05-01 "
                "or 2024-05-01T09:00:00+02:00"
            ) from None
    after, before = moments["signed_up_after"], moments["signed_up_before"]
    if after is not None and before is not None and after >= before:
        raise ConfigError(
            f"{where}: signed_up_after must be earlier than signed_up_before, "
            "or the segment reaches nobody"
        )


def check_cron(expression: str) -> str:
    """Return why a five-field cron expression is invalid, or an empty string."""
    if len(expression.split()) != 5:
        return f"{expression!r} needs five fields (minute hour day month day-of-week)"
    try:
        CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError as e:
        return f"{expression!r}: {e}"
    return ""
