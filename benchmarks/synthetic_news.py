"""A synthetic wire: many stories, each told by one to four outlets in their own words.

Used by ``cluster.py`` and ``ingest.py``. Names, places, organisations and numbers are
drawn from seeded pools with a long tail (a few organisations and places recur in many
stories, as "the Commission" or "Washington" do), so that different stories share
entities the way real ones do. Each outlet writes its report from the story's facts with
its own sentence templates, order and filler; about one report in ten is a syndicated
copy of another with a new headline, intro and footer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

_SYLLABLE_TEXT = (
    "ka ri no ta mel vin sor dal ber gen tho lin mar ves pol quin rad sel tor ul "
    "bran cor del fen gar hal jor kel lor mun nor pen ros sten tam var wen yar zol"
)
SYLLABLES = _SYLLABLE_TEXT.split()
TOPICS = {
    "economy": ("prices", "inflation", "growth", "wages", "exports", "tariffs", "rates"),
    "politics": ("vote", "coalition", "budget", "reform", "parliament", "minister", "bill"),
    "tech": ("software", "outage", "chips", "cloud", "privacy", "update", "devices"),
    "health": ("trial", "patients", "vaccine", "hospital", "treatment", "doctors", "drug"),
    "weather": ("storm", "flooding", "winds", "rainfall", "power", "warning", "coast"),
    "business": ("deal", "shares", "profit", "takeover", "investors", "stake", "merger"),
    "sport": ("match", "final", "goal", "season", "coach", "league", "title"),
    "science": ("study", "researchers", "species", "telescope", "samples", "data", "mission"),
}
OUTLETS = (
    "Northern Ledger", "Harbor Times", "Meridian Post", "Atlas Press", "Summit Observer",
    "Pacific Bulletin", "Eastgate News", "Capital Dispatch", "Beacon Herald", "Civic Wire",
    "Techwire", "Continental Report", "Lakeshore Chronicle", "Market Street Journal",
)  # fmt: skip
FILLER = (
    "Officials did not give further details.",
    "The announcement was expected by most observers.",
    "Critics said the move came too late.",
    "Further updates are expected later in the week.",
    "Analysts said the outcome could have wider effects.",
    "The decision follows months of discussion.",
    "Local groups welcomed the news but asked for more information.",
    "It was not immediately clear what would happen next.",
)
TEMPLATES = (
    "{org} said on {day} that the {t0} in {place} had reached {n0}, according to {person}.",
    "According to {person} of {org}, the {t0} in {place} stood at {n0} on {day}.",
    "{place} saw its {t0} reach {n0}, {org} announced on {day}.",
    "{person} told reporters that {n1} people were affected by the {t1}.",
    "About {n1} people were affected, {person} said, calling the {t1} serious.",
    "The {t1} affected roughly {n1} people, officials at {org} said.",
    "{org2} said the figure could rise to {n2} by the end of the year.",
    "By the end of the year the total could reach {n2}, {org2} estimated.",
    "{person2} of {org2} warned that {t2} would remain under pressure in {place}.",
    "In {place}, {person2} said {t2} would stay under pressure for months.",
    "The {t3} was the largest since {year}, when {n3} was recorded.",
    "Not since {year} has the {t3} been so large; the figure then was {n3}.",
)
GROUPS = (TEMPLATES[0:3], TEMPLATES[3:6], TEMPLATES[6:8], TEMPLATES[8:10], TEMPLATES[10:12])


@dataclass(frozen=True)
class Report:
    story: int
    outlet: str
    url: str
    title: str
    published: datetime
    paragraphs: tuple[str, ...]
    kind: str  # report or copy

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


class Wire:
    def __init__(self, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.people = [self._name(2) + " " + self._name(3) for _ in range(6000)]
        self.places = [self._name(3) for _ in range(2500)]
        self.orgs = [f"{self._name(2)} {self._kind()}" for _ in range(1800)]
        self._weights: dict[int, list[float]] = {}

    def reports(self, count: int, start: datetime, days: float) -> list[Report]:
        """``count`` reports of stories spread over ``days`` from ``start``, oldest first."""
        out: list[Report] = []
        story = 0
        while len(out) < count:
            when = start + timedelta(seconds=self.rng.uniform(0, days * 86400))
            out.extend(self._story(story, when))
            story += 1
        out = out[:count]
        out.sort(key=lambda r: r.published)
        return out

    def _story(self, story: int, when: datetime) -> list[Report]:
        rng = self.rng
        topic = rng.choice(list(TOPICS))
        words = TOPICS[topic]
        facts = {
            "org": self._pick(self.orgs),
            "org2": self._pick(self.orgs),
            "person": self._pick(self.people),
            "person2": self._pick(self.people),
            "place": self._pick(self.places),
            "day": when.strftime("%A"),
            "year": str(rng.randint(1990, 2024)),
            "n0": f"{rng.randint(11, 990)}",
            "n1": f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}",
            "n2": f"{rng.uniform(1, 99):.1f} million",
            "n3": f"{rng.randint(100, 9999)}",
            **{f"t{i}": rng.choice(words) for i in range(4)},
        }
        tellers = rng.choices((1, 2, 3, 4), weights=(50, 25, 15, 10))[0]
        outlets = rng.sample(OUTLETS, tellers)
        reports: list[Report] = []
        for number, outlet in enumerate(outlets):
            published = when + timedelta(minutes=rng.uniform(0, 18 * 60) if number else 0)
            if reports and rng.random() < 0.1:
                reports.append(self._copy(reports[0], outlet, published))
                continue
            chosen = [rng.choice(group).format(**facts) for group in GROUPS if rng.random() < 0.9]
            rng.shuffle(chosen)
            chosen += rng.sample(FILLER, 4)
            paragraphs = tuple(" ".join(chosen[i : i + 2]) for i in range(0, len(chosen), 2))
            verb = rng.choice(("rises", "falls", "shifts", "stalls"))
            title = f"{facts['place']} {words[0]} {verb} as {facts['org']} reports {facts['t1']}"
            url = self._url(outlet, story)
            reports.append(Report(story, outlet, url, title, published, paragraphs, "report"))
        return reports

    def _copy(self, original: Report, outlet: str, published: datetime) -> Report:
        intro = f"({original.outlet}) — {original.paragraphs[0]}"
        footer = f"This story was distributed by {original.outlet}. Read more at {outlet}."
        paragraphs = (intro, *original.paragraphs[1:], footer)
        return Report(
            original.story, outlet, self._url(outlet, original.story), "Update: " + original.title,
            published, paragraphs, "copy",
        )  # fmt: skip

    def _pick(self, pool: list[str]) -> str:
        """An entity, by a Zipf-like law: the first few are in the news every day."""
        weights = self._weights.get(len(pool))
        if weights is None:
            weights = list(accumulate(1 / (rank + 10) for rank in range(len(pool))))
            self._weights[len(pool)] = weights
        return self.rng.choices(pool, cum_weights=weights)[0]

    def _name(self, syllables: int) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()

    def _kind(self) -> str:
        kinds = ("Group", "Bank", "Authority", "Council", "Institute", "Holdings", "Union")
        return self.rng.choice(kinds)

    def _url(self, outlet: str, story: int) -> str:
        host = outlet.lower().replace(" ", "") + ".example"
        return f"https://{host}/news/{story}-{self.rng.randrange(16**8):08x}"


START = datetime(2026, 11, 1, tzinfo=UTC)
