from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from digest.store.database import Store
from subscribers.columns import COLUMNS
from subscribers.errors import ImportFileError, ImportRowError
from subscribers.importer import SubscriberRow, email_hash, merge, normalise_email, read_csv
from subscribers.importer.rows import parse_mapping, targets
from subscribers.models import Status, Subscriber, Suppression

NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def rows_and_errors(path: Path) -> tuple[list[SubscriberRow], list[ImportRowError]]:
    rows: list[SubscriberRow] = []
    errors: list[ImportRowError] = []
    for item in read_csv(path):
        (errors if isinstance(item, ImportRowError) else rows).append(item)  # type: ignore[arg-type]
    return rows, errors


def test_bad_rows_are_named_by_line_and_good_rows_kept(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "\ufeffEmail,Name,Lists,Team\n"
        "Ann@Example.COM,Ann,politics,red\n"
        "not-an-address,Bob,politics,blue\n"
        ",Nobody,politics,blue\n"
        'cy@example.org,Cy,"politics;tech",green\n'
        "di@example.org,Di,tech,red,surplus\n",
        encoding="utf-8",
    )
    rows, errors = rows_and_errors(path)
    assert [r.email for r in rows] == ["ann@example.com", "cy@example.org"]
    assert rows[0].attributes == {"team": "red"}
    assert rows[1].lists == ("politics", "tech")
    assert [(e.line, e.source) for e in errors] == [(3, str(path)), (4, str(path)), (6, str(path))]
    assert "invalid email address 'not-an-address'" in str(errors[0])
    assert str(errors[0]).startswith(f"{path}:3: ")


def test_semicolon_dialect_is_understood(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("email;name;lists\nann@example.com;Ann;tech\n", encoding="utf-8")
    rows, errors = rows_and_errors(path)
    assert errors == [] and rows[0].name == "Ann" and rows[0].lists == ("tech",)


def test_file_without_email_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("name\nAnn\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="no 'email' column"):
        list(read_csv(path))


def test_merge_never_reactivates_the_unsubscribed_or_suppressed(store: Store) -> None:
    with store.session() as session:
        merge(session, [SubscriberRow("ann@example.com", lists=("a",))], NOW)
        session.scalars(select(Subscriber)).one().status = Status.unsubscribed
        session.add(
            Suppression(email_hash=email_hash("gone@example.com"), reason="erased", created_at=NOW)
        )
    with store.session() as session:
        result = merge(
            session,
            [
                SubscriberRow("ann@example.com", name="Ann", lists=("a", "b")),
                SubscriberRow("gone@example.com", lists=("a",)),
            ],
            NOW,
        )
        assert (result.added, result.updated, result.kept_suppressed) == (0, 0, 2)
    with store.session() as session:
        people = {s.email: s for s in session.scalars(select(Subscriber))}
        assert people["ann@example.com"].status == Status.unsubscribed
        assert people["ann@example.com"].list_names == {"a", "b"}
        assert "gone@example.com" not in people  # an erased address is not stored again


def test_the_same_address_in_another_case_is_one_subscriber(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,lists\nAda@Readers.Example,a\n", encoding="utf-8")
    for _ in range(2):
        rows, _errors = rows_and_errors(path)
        with store.session() as session:
            merge(session, rows, NOW)
    path.write_text("email,lists\nada@readers.example,b\n", encoding="utf-8")
    rows, _errors = rows_and_errors(path)
    with store.session() as session:
        merge(session, rows, NOW)
    with store.session() as session:
        people = list(session.scalars(select(Subscriber)))
        assert [(p.email, p.list_names) for p in people] == [("ada@readers.example", {"a", "b"})]
    with store.session() as session:
        merge(session, rows, NOW, replace_lists=True)
    with store.session() as session:
        people = list(session.scalars(select(Subscriber)))
        assert [(p.email, p.list_names) for p in people] == [("ada@readers.example", {"b"})]


def reference(address: str) -> str | None:
    """What email-validator itself says: the lower-cased normal form, or None if invalid."""
    try:
        return str(validate_email(address.strip(), check_deliverability=False).normalized).lower()
    except EmailNotValidError:
        return None


def ours(address: str) -> str | None:
    try:
        return normalise_email(address)
    except ValueError:
        return None


TRICKY = [
    "Ann@Example.COM",
    " ann@example.com ",
    "a.b-c+tag@sub.example.co.uk",
    "a..b@example.com",
    ".ab@example.com",
    "ab.@example.com",
    "ann@example",
    "ann@localhost",
    "ann@x.test",
    "ann@x.invalid",
    "ann@-x.com",
    "ann@x-.com",
    "ann@x..com",
    "ann@123.456",
    "ann@[192.0.2.1]",
    '"ann lee"@example.com',
    "Ann Lee <ann@example.com>",
    "ann@b@example.com",
    "ann@BÜCHER.example",
    "ann@xn--bcher-kva.example",
    "zoë@example.com",
    "Postmaster@Example.com",
    "a" * 64 + "@example.com",
    "a" * 65 + "@example.com",
    "a@" + ".".join(["b" * 63] * 3) + ".com",
    "a" * 60 + "@" + ".".join(["b" * 60] * 3) + ".com",
    "a" * 20 + "@" + ".".join(["b" * 60] * 4) + ".com",  # a valid domain, too long in all
    "ann@" + "b" * 64 + ".com",
    "ann@exa mple.com",
    "ann@",
    "@example.com",
    "",
]


@pytest.mark.parametrize("address", TRICKY)
def test_the_fast_path_agrees_with_email_validator(address: str) -> None:
    assert ours(address) == reference(address)


@given(
    st.text(alphabet="aZ09._-+!#'@ü", min_size=1, max_size=70),
    st.sampled_from(["example.com", "Example.ORG", "ex-ample.co", "x.test", "a..b", "b"]),
)
def test_the_fast_path_agrees_on_generated_addresses(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    assert ours(address) == reference(address)


def test_header_aliases_and_mapping() -> None:
    assert targets(["E-Mail", "First Name", "SURNAME", "Time zone", "Team"], {}) == [
        "email",
        "first_name",
        "last_name",
        "timezone",
        "@team",
    ]
    mapping = parse_mapping(["Correo=email", "Notes=-", "Equipo=attributes.Team"])
    assert mapping == {"correo": "email", "notes": "", "equipo": "@Team"}
    assert targets(["correo", "Notes", "Equipo", ""], mapping) == ["email", "", "@Team", ""]
    with pytest.raises(ValueError, match="both set email"):
        targets(["email", "Email Address"], {})


def test_an_import_reads_each_column_an_export_writes_as_that_field() -> None:
    assert targets(list(COLUMNS), {}) == list(COLUMNS)
