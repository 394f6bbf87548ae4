"""`digest subscribers import` and `export`, through the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from helpers import Ran, subscribers_cli, write_audience_config
from sqlalchemy import select, update

from digest.store.database import open_store
from subscribers.importer import email_hash
from subscribers.models import Status, Subscriber, Suppression

LISTED = '[segments.listed]\nlists = ["a", "b", "daily", "weekly"]\n'


class Desk:
    """A config on the test's database, a folder for files, and the command line."""

    def __init__(self, folder: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.url = url
        self.config = write_audience_config(folder / "digest.toml", url, LISTED)
        self.capsys = capsys

    def run(self, *args: str) -> Ran:
        return subscribers_cli(self.capsys, self.config, *args)

    def file(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        path = self.folder / name
        path.write_bytes(text.encode(encoding))
        return path

    def people(self) -> dict[str, Subscriber]:
        with open_store(self.url) as store, store.session() as session:
            return {s.email: s for s in session.scalars(select(Subscriber))}


@pytest.fixture
def desk(tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> Desk:
    return Desk(tmp_path / "desk", database_url, capsys)


def test_excel_csv_with_bom_semicolons_aliases_and_line_breaks(desk: Desk) -> None:
    path = desk.file(
        "excel.csv",
        "\ufeffE-mail;First name;Last name;Lists;Tags;Time zone;Language;Team\r\n"
        "Ann@Example.COM;Ann;Lee;daily;Politics;Europe/Helsinki;fi_FI;red\r\n"
        'bob@example.org;"Robert\r\n""Bob""";Smith;"daily;weekly";"tech, science";'
        "europe/london;en-GB;blue\r\n",
    )
    ran = desk.run("import", str(path))
    assert ran.code == 0, ran.err
    assert ran.out.strip() == (
        f"{path}: 2 added, 0 updated, 0 unchanged, 0 kept suppressed, 0 rejected"
    )
    people = desk.people()
    assert sorted(people) == ["ann@example.com", "bob@example.org"]
    ann, bob = people["ann@example.com"], people["bob@example.org"]
    assert (ann.name, ann.timezone, ann.locale, ann.followed_tags) == (
        "Ann Lee",
        "Europe/Helsinki",
        "fi-FI",
        ["politics"],
    )
    assert ann.attributes == {"team": "red"} and ann.status == Status.active
    assert ann.confirmed_at is not None
    assert bob.name == 'Robert "Bob" Smith'  # the line break inside the quotes is folded
    assert bob.list_names == {"daily", "weekly"}
    assert (bob.followed_tags, bob.timezone) == (["tech", "science"], "Europe/London")


def test_tab_separated_and_excel_sep_line(desk: Desk) -> None:
    tabs = desk.file("tabs.txt", "email\tname\nann@example.com\tAnn, the first\n")
    hinted = desk.file("hinted.csv", "sep=|\nemail|name\nbob@example.org|Bob; Jr\n")
    assert desk.run("import", str(tabs)).code == 0
    ran = desk.run("import", str(hinted))
    assert ran.code == 0, ran.err
    people = desk.people()
    assert people["ann@example.com"].name == "Ann, the first"
    assert people["bob@example.org"].name == "Bob; Jr"


def test_a_header_that_needs_map(desk: Desk) -> None:
    path = desk.file("es.csv", "Correo,Nombre,Equipo,Notas\nana@example.es,Ana,rojo,call her\n")
    ran = desk.run("import", str(path))
    assert ran.code == 1
    assert ran.err == (
        f"error: {path}:1: no 'email' column in the header row; "
        "name one email, or pass --map COLUMN=email\n"
    )
    ran = desk.run(
        "import",
        str(path),
        "--map",
        "Correo=email",
        "--map",
        "nombre=name",
        "--map",
        "Equipo=attributes.team",
        "--map",
        "Notas=-",
    )
    assert ran.code == 0, ran.err
    ana = desk.people()["ana@example.es"]
    assert (ana.name, ana.attributes) == ("Ana", {"team": "rojo"})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("Correo", "'Correo': write COLUMN=FIELD"),
        ("Correo=mail", "unknown field 'mail'"),
    ],
)
def test_a_bad_map_is_a_usage_error(desk: Desk, mapping: str, message: str) -> None:
    path = desk.file("es.csv", "Correo\nana@example.es\n")
    ran = desk.run("import", str(path), "--map", mapping)
    assert ran.code == 2
    assert message in ran.err
    assert "Traceback" not in ran.err


def test_a_map_naming_a_missing_column(desk: Desk) -> None:
    path = desk.file("es.csv", "email\nana@example.es\n")
    ran = desk.run("import", str(path), "--map", "Correo=email")
    assert ran.code == 1
    assert ran.err.startswith(f"error: {path}:1: --map names column 'correo', which the header")


BAD = (
    "email,name,timezone\n"
    "ann@example.com,Ann,Europe/Paris\n"
    "not-an-address,Bob,UTC\n"
    'cy@example.org,"Cy\n'
    'Jr",Mars/Olympus\n'
    "di@example.org,Di,UTC,surplus\n"
    ",Nobody,UTC\n"
    "ed@example.org,Ed,\n"
)


def test_one_bad_row_imports_nothing_and_every_problem_is_listed(desk: Desk) -> None:
    path = desk.file("people.csv", BAD)
    ran = desk.run("import", str(path))
    assert ran.code == 1
    assert ran.out == ""
    lines = ran.err.splitlines()
    assert lines[0].startswith(f"{path}:3: invalid email address 'not-an-address': ")
    assert lines[1:] == [
        f"{path}:4: unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/London",
        f"{path}:6: 4 fields but the header has 3 columns; quote fields that contain the delimiter",
        f"{path}:7: empty email address; fill it in or remove the row",
        f"error: {path}: nothing imported: 4 rows with problems; fix them, "
        "or pass --skip-invalid to import the other rows",
    ]
    assert desk.people() == {}


def test_skip_invalid_imports_the_good_rows_and_writes_the_rejects(desk: Desk) -> None:
    path = desk.file("people.csv", BAD)
    ran = desk.run("import", str(path), "--skip-invalid")
    rejects = desk.folder / "people.rejects.csv"
    assert ran.code == 1  # something failed; the rest is stored
    assert ran.out.strip() == (
        f"{path}: 2 added, 0 updated, 0 unchanged, 0 kept suppressed, 4 rejected "
        f"(written to {rejects})"
    )
    assert sorted(desk.people()) == ["ann@example.com", "ed@example.org"]
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["email", "name", "timezone", "error"]
    assert [row[:3] for row in table[1:]] == [
        ["not-an-address", "Bob", "UTC"],
        ["cy@example.org", "Cy\nJr", "Mars/Olympus"],
        ["di@example.org", "Di", "UTC"],
        ["", "Nobody", "UTC"],
    ]
    assert [row[3].split(":")[0] for row in table[1:]] == ["line 3", "line 4", "line 6", "line 7"]
    assert table[3][4:] == ["surplus"]  # the extra cell is kept, after the error
    # the fixed reject file imports (its error column dropped with --map)
    fixed = rejects.read_text(encoding="utf-8-sig").replace("not-an-address", "bob@example.org")
    again = desk.file("fixed.csv", fixed)
    ran = desk.run(
        "import",
        str(again),
        "--skip-invalid",
        "--map",
        "error=-",
        "--rejects",
        str(desk.folder / "still-bad.csv"),
    )
    assert "1 added" in ran.out and "3 rejected" in ran.out
    assert (desk.folder / "still-bad.csv").exists()


def test_duplicates_in_the_file_the_later_row_wins_and_the_store_is_updated(desk: Desk) -> None:
    first = desk.file(
        "first.csv", "email,name,lists\nann@example.com,Ann,a\nbob@example.org,Bob,a\n"
    )
    assert desk.run("import", str(first)).code == 0
    path = desk.file(
        "second.csv",
        "email,name,lists\n"
        "ANN@example.com,Annie,a\n"
        "cy@example.org,Cy,b\n"
        "bob@example.org,Bob,a\n"
        "ann@example.com,Ann B.,a;b\n",
    )
    ran = desk.run("import", str(path))
    assert ran.code == 0
    assert ran.err == (f"note: {path}:5: ann@example.com is also on line 2; the later row wins\n")
    assert ran.out.strip() == (
        f"{path}: 1 added, 1 updated, 1 unchanged, 0 kept suppressed, 0 rejected"
    )
    people = desk.people()
    assert (people["ann@example.com"].name, people["ann@example.com"].list_names) == (
        "Ann B.",
        {"a", "b"},
    )


def test_duplicates_across_chunks_are_counted_once(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subscribers.importer as importer

    monkeypatch.setattr(importer, "CHUNK", 2)
    path = desk.file(
        "chunks.csv",
        "email,name\na@example.com,A\nb@example.com,B\nc@example.com,C\na@example.com,A2\n",
    )
    ran = desk.run("import", str(path))
    assert ran.out.strip().endswith(
        "3 added, 0 updated, 0 unchanged, 0 kept suppressed, 0 rejected"
    )
    assert desk.people()["a@example.com"].name == "A2"
    unchanged_then_changed = desk.file(
        "again.csv",
        "email,name\na@example.com,A2\nb@example.com,B\nc@example.com,C\na@example.com,A3\n",
    )
    ran = desk.run("import", str(unchanged_then_changed))
    assert ran.out.strip().endswith(
        "0 added, 1 updated, 2 unchanged, 0 kept suppressed, 0 rejected"
    )


def test_an_import_never_reactivates_an_unsubscribed_address(desk: Desk) -> None:
    path = desk.file(
        "people.csv", "email,name,status\nann@example.com,Ann,\nbob@example.org,Bob,\n"
    )
    assert desk.run("import", str(path)).code == 0
    with open_store(desk.url) as store, store.session() as session:
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "ann@example.com")
            .values(status=Status.unsubscribed)
        )
    again = desk.file(
        "again.csv",
        "email,name,status\nann@example.com,Ann Lee,active\nbob@example.org,Bob,bounced\n",
    )
    ran = desk.run("import", str(again))
    assert ran.out.strip().endswith(
        "0 added, 1 updated, 0 unchanged, 1 kept suppressed, 0 rejected"
    )
    people = desk.people()
    assert people["ann@example.com"].status == Status.unsubscribed
    assert people["ann@example.com"].name == "Ann Lee"  # details still follow the file
    assert people["bob@example.org"].status == Status.bounced  # a file may stop mail, not start it
    with open_store(desk.url) as store, store.session() as session:
        listed = {s.email_hash: s.reason for s in session.scalars(select(Suppression))}
    assert listed == {email_hash("bob@example.org"): "bounced"}
    new = desk.file("new.csv", "email,status\ncy@example.org,complained\n")
    assert "1 added" in desk.run("import", str(new)).out
    with open_store(desk.url) as store, store.session() as session:
        cy = session.get(Suppression, email_hash("cy@example.org"))
    assert cy is not None and cy.reason == "complained"


def test_new_subscribers_may_be_pending_and_absent_columns_are_kept(desk: Desk) -> None:
    path = desk.file("people.csv", "email,name,lists,plan\nann@example.com,Ann,a;b,pro\n")
    assert desk.run("import", str(path), "--status", "pending").code == 0
    ann = desk.people()["ann@example.com"]
    assert (ann.status, ann.confirmed_at) == (Status.pending, None)
    renamed = desk.file("names.csv", "email,name\nann@example.com,Ann Lee\n")
    assert "1 updated" in desk.run("import", str(renamed)).out
    ann = desk.people()["ann@example.com"]
    assert (ann.name, ann.list_names, ann.attributes) == ("Ann Lee", {"a", "b"}, {"plan": "pro"})
    assert ann.status == Status.pending  # an import does not confirm anyone


def test_json_lines_import(desk: Desk) -> None:
    lines = [
        {"email": "ann@example.com", "name": "Ann", "lists": ["a"], "tags": ["Tech"], "score": 3},
        "not an object",
        {"email": "bob@example.org", "frequency": "hourly"},
        {"e-mail": "cy@example.org", "attributes": {"plan": "pro", "seats": 2}},
    ]
    path = desk.file("people.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n{oops\n")
    ran = desk.run("import", str(path))
    assert ran.code == 1
    assert ran.err.splitlines()[:3] == [
        f'{path}:2: not a JSON object; write one {{"email": …}} per line',
        f"{path}:3: unknown frequency 'hourly'; use one of daily, weekly, monthly",
        f"{path}:6: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
    ]
    ran = desk.run("import", str(path), "--skip-invalid")
    with (desk.folder / "people.rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert table == [
        ["text", "error"],
        ['"not an object"', 'line 2: not a JSON object; write one {"email": …} per line'],
        [
            json.dumps(lines[2]),
            "line 3: unknown frequency 'hourly'; use one of daily, weekly, monthly",
        ],
        [
            "{oops",
            "line 6: not valid JSON "
            "(Expecting property name enclosed in double quotes at column 2)",
        ],
    ]
    people = desk.people()
    assert people["ann@example.com"].attributes == {"score": 3}
    assert people["ann@example.com"].followed_tags == ["tech"]
    assert people["cy@example.org"].attributes == {"plan": "pro", "seats": 2}
    same = desk.file("people.data", json.dumps(lines[0]) + "\n")
    assert desk.run("import", str(same)).err == (
        f"error: {same}: cannot tell the format from the extension; pass --format csv or jsonl\n"
    )
    assert (
        "0 added, 0 updated, 1 unchanged" in desk.run("import", str(same), "--format", "jsonl").out
    )


def test_unreadable_files_are_one_line(desk: Desk) -> None:
    missing = desk.folder / "missing.csv"
    ran = desk.run("import", str(missing))
    assert (ran.code, ran.err) == (
        1,
        f"error: {missing}: cannot open the file (No such file or directory)\n",
    )
    latin = desk.file("latin.csv", "email,name\nzoe@example.com,Zoë\n", encoding="latin-1")
    ran = desk.run("import", str(latin))
    assert ran.code == 1
    assert ran.err.startswith(f"error: {latin}:2: not UTF-8 text")  # the line of the bad byte
    assert len(ran.err.splitlines()) == 1
    empty = desk.file("empty.csv", "")
    assert desk.run("import", str(empty)).err == (
        f"error: {empty}: empty file; the first line must name columns\n"
    )
    clash = desk.file("clash.csv", "email,E-mail\na@example.com,b@example.com\n")
    assert "columns 'email' and 'E-mail' both set email" in desk.run("import", str(clash)).err


RICH = [
    {
        "email": "ann@example.com",
        "name": "Ann Lee",
        "status": "active",
        "frequency": "weekly",
        "timezone": "Europe/Helsinki",
        "locale": "fi-FI",
        "followed_tags": ["politics", "climate"],
        "lists": ["daily", "weekly"],
        "attributes": {"plan": "pro", "seats": 3, "nested": {"a": [1, 2]}, "quote": 'say "hi"; ok'},
        "signed_up_at": "2024-01-02T03:04:05+00:00",
        "confirmed_at": "2024-01-02T03:10:00+00:00",
    },
    {
        "email": "bob@example.org",
        "name": "Bob, Jr.",
        "status": "pending",
        "frequency": "",
        "timezone": "UTC",
        "locale": "",
        "followed_tags": [],
        "lists": [],
        "attributes": {},
        "signed_up_at": "2025-06-01T12:00:00+00:00",
        "confirmed_at": None,
    },
    {
        "email": "cy@example.org",
        "name": "Çy Ünal",
        "status": "unsubscribed",
        "frequency": "daily",
        "timezone": "America/New_York",
        "locale": "tr",
        "followed_tags": ["tech"],
        "lists": ["daily"],
        "attributes": {"note": "line one\nline two"},
        "signed_up_at": "2023-05-06T07:08:09.123456+00:00",
        "confirmed_at": "2023-05-06T07:09:00+00:00",
    },
]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_imports_back_to_the_same_state(desk: Desk, tmp_path: Path, fmt: str) -> None:
    source = desk.file("rich.jsonl", "".join(json.dumps(r) + "\n" for r in RICH))
    assert desk.run("import", str(source)).code == 0
    exported = desk.folder / f"export.{fmt}"
    ran = desk.run("export", "--format", fmt, "-o", str(exported))
    assert (ran.code, ran.err) == (0, f"exported 3 subscribers to {exported}\n")
    if fmt == "jsonl":
        assert [json.loads(line) for line in exported.read_text("utf-8").splitlines()] == RICH
    # the same file into the same store changes nothing
    assert (
        desk.run("import", str(exported))
        .out.strip()
        .endswith("0 added, 0 updated, 2 unchanged, 1 kept suppressed, 0 rejected")
    )
    # into a fresh store, it gives the same export
    fresh = Desk(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}", desk.capsys)
    ran = fresh.run("import", str(exported))
    assert ran.out.strip().endswith(
        "3 added, 0 updated, 0 unchanged, 0 kept suppressed, 0 rejected"
    )
    assert fresh.run("export", "--format", fmt).out == desk.run("export", "--format", fmt).out
    assert desk.run("export", "--format", fmt).out == exported.read_bytes().decode("utf-8")


def test_export_to_stdout_filters_by_status(desk: Desk) -> None:
    source = desk.file("rich.jsonl", "".join(json.dumps(r) + "\n" for r in RICH))
    desk.run("import", str(source))
    ran = desk.run("export", "--status", "pending")
    rows = list(csv.DictReader(ran.out.splitlines()))
    assert [(r["email"], r["status"], r["confirmed_at"]) for r in rows] == [
        ("bob@example.org", "pending", "")
    ]
    assert list(rows[0]) == [
        "email",
        "name",
        "status",
        "frequency",
        "timezone",
        "locale",
        "followed_tags",
        "lists",
        "attributes",
        "signed_up_at",
        "confirmed_at",
    ]
    ran = desk.run("export")
    ann = next(csv.DictReader(ran.out.splitlines()))
    assert (ann["followed_tags"], ann["lists"], ann["frequency"]) == (
        "politics;climate",
        "daily;weekly",
        "weekly",
    )
    assert json.loads(ann["attributes"]) == RICH[0]["attributes"]


def test_the_command_help(desk: Desk) -> None:
    ran = desk.run("import", "--help")
    assert "--skip-invalid" in ran.out and "COLUMN=FIELD" in ran.out


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("bad_line", [2, 5000])
def test_a_byte_that_is_not_utf8_is_reported_on_its_own_line(
    desk: Desk, fmt: str, bad_line: int
) -> None:
    """The reader decodes ahead of the rows it has read; the line named is the byte's."""

    def row(n: int) -> str:
        name = "Zoë" if n == bad_line else f"Reader {n}"
        if fmt == "jsonl":
            return json.dumps({"email": f"r{n}@example.com", "name": name}, ensure_ascii=False)
        return f"r{n}@example.com,{name}"

    header = [] if fmt == "jsonl" else ["email,name"]
    first = 1 if fmt == "jsonl" else 2
    lines = header + [row(n) for n in range(first, 5001)]
    path = desk.file(f"people.{fmt}", "\n".join(lines) + "\n", encoding="latin-1")
    ran = desk.run("import", str(path))
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == (
        f"error: {path}:{bad_line}: not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)\n"
    )
    assert desk.people() == {}


def test_an_import_adds_lists_and_only_replace_lists_removes_them(desk: Desk) -> None:
    first = desk.file(
        "first.csv",
        "email,lists\ncat@example.com,weekly\ndan@example.com,weekly;b\neve@example.com,a\n",
    )
    assert desk.run("import", str(first)).code == 0
    again = desk.file("again.csv", "email,lists\ncat@example.com,daily\ndan@example.com,daily\n")
    ran = desk.run("import", str(again))
    assert (ran.code, ran.err) == (0, "")
    assert ran.out == f"{again}: 0 added, 2 updated, 0 unchanged, 0 kept suppressed, 0 rejected\n"
    lists = {email: s.list_names for email, s in desk.people().items()}
    assert lists == {
        "cat@example.com": {"weekly", "daily"},  # added to, never silently removed from
        "dan@example.com": {"weekly", "b", "daily"},
        "eve@example.com": {"a"},
    }

    with open_store(desk.url) as store, store.session() as session:  # eve saved her page
        session.execute(
            update(Subscriber)
            .where(Subscriber.email == "eve@example.com")
            .values(preferences_saved_at=Subscriber.signed_up_at)
        )
    chosen = desk.file(
        "chosen.csv",
        "email,lists\ncat@example.com,daily\ndan@example.com,daily\neve@example.com,b\n",
    )
    ran = desk.run("import", str(chosen), "--replace-lists")
    assert (ran.code, ran.err) == (0, "")
    assert ran.out == (
        f"{chosen}: 0 added, 2 updated, 1 unchanged, 0 kept suppressed, 0 rejected, "
        "3 list memberships removed\n"
    )
    lists = {email: s.list_names for email, s in desk.people().items()}
    assert lists == {
        "cat@example.com": {"daily"},
        "dan@example.com": {"daily"},
        "eve@example.com": {"a"},  # what a reader chose on the preferences page stays
    }
    ran = desk.run("import", str(chosen), "--replace-lists")
    assert ran.out.endswith(
        "0 added, 0 updated, 3 unchanged, 0 kept suppressed, 0 rejected, "
        "0 list memberships removed\n"
    )


def test_a_list_that_no_segment_uses_is_warned_about(desk: Desk) -> None:
    path = desk.file(
        "people.csv",
        "email,lists\n"
        "ann@example.com,daily\n"
        "bob@example.org,dialy;weekly\n"
        "cy@example.org,dialy\n"
        "di@example.org,Weekly\n",
    )
    ran = desk.run("import", str(path))
    assert ran.code == 0
    assert ran.err == (
        f"warning: {path}:3: list 'dialy' (2 rows) is in no segment's lists in {desk.config}; "
        "add it to a segment's lists, or fix the spelling\n"
        f"warning: {path}:5: list 'Weekly' (1 row) is in no segment's lists in {desk.config}; "
        "add it to a segment's lists, or fix the spelling\n"
    )
    assert ran.out.strip().endswith(
        "4 added, 0 updated, 0 unchanged, 0 kept suppressed, 0 rejected"
    )
    assert desk.people()["bob@example.org"].list_names == {"dialy", "weekly"}  # still imported
