"""CSV imports of contacts and of bounce lists: messy files, exact counts, all or nothing."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.services import Actor
from surveys import imports, tokens
from surveys.models import Contact, Invitation, Survey
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

# shared/ stands beside the project's checkout (on CI too); SHARED_DATA_DIR may point elsewhere.
SHARED_DATA = Path(
    os.environ.get("SHARED_DATA_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data"
)
ONLINE_RETAIL = SHARED_DATA / "online_retail" / "online_retail.csv.gz"


def _errors(report: imports.ImportReport) -> list[tuple[int, str, str, bool]]:
    return [(e.row, e.column, e.code, e.skipped) for e in report.errors]


def _contacts(store: Any) -> dict[str, tuple[str, str, str]]:
    return {
        c.email: (c.customer_key, c.name, c.language) for c in Contact.objects.filter(store=store)
    }


# --- A messy file from a Lithuanian shop

MESSY_LINES = [
    "E-mail;Vardas;Pavardė;Kalba;Kliento ID",  # row 1
    "jonas.jonaitis@example.com;Jonas;Jonaitis;LT;1001",  # 2
    "ruta.zemaitiene@example.com;Rūta;Žemaitienė;lt-LT;1002",  # 3
    "",  # 4: a blank line is no row, but counts for the row numbers below
    "Šarūnas@example.com;Šarūnas;Kęstutis;lt;1003",  # 5: non-ASCII local part
    " EGLE.PETRAITYTE@EXAMPLE.COM ;Eglė;Petraitytė;Lithuanian;1004.0",  # 6
    ";Vytautas;Mačiulis;lt;1005",  # 7: no email
    "jonas.jonaitis@example.com;;;en;",  # 8: duplicate of 2, adds only the language
    'andrius@example.com;"Andrius; jaunesnysis";Mažeika;de;1006',  # 9: German: not offered
    "not-an-email;Ona;Onaitė;lt;1007",  # 10
    "ieva@example.lv;Ieva;Liepiņa;Latvian;1008",  # 11
    "egle.petraityte@example.com;Eglė;Petraitytė-Kazlauskienė;;",  # 12: duplicate of 6
    "tomas@example.com;Tomas;Tomaitis;lt;1009",  # 13: already stored exactly so
]
MESSY_TEXT = "\r\n".join(MESSY_LINES) + "\r\n"


@pytest.mark.parametrize(
    ("encoding", "expected_encoding"),
    [
        ("utf-8-sig", "utf-8-sig"),  # Excel's "CSV UTF-8" writes a BOM
        ("utf-8", "utf-8"),
        ("cp1257", "cp1257"),  # Excel's plain "CSV" on a Lithuanian Windows
        ("utf-16", "utf-16"),  # Excel's "Unicode text", with a BOM
    ],
)
def test_messy_file_exact_counts(
    store: Any, actor: Actor, encoding: str, expected_encoding: str
) -> None:
    Contact.objects.create(
        organisation=store.organisation, store=store, email="ruta.zemaitiene@example.com",
        name="Rūta Ž.",
    )  # fmt: skip
    Contact.objects.create(
        organisation=store.organisation, store=store, email="tomas@example.com",
        customer_key="1009", name="Tomas Tomaitis", language="lt",
    )  # fmt: skip

    report = imports.contacts_import_csv(
        store=store, actor=actor, file_bytes=MESSY_TEXT.encode(encoding)
    )

    assert report.fatal == ""
    assert (report.encoding, report.delimiter) == (expected_encoding, ";")
    assert report.columns == {
        "E-mail": "email",
        "Vardas": "name",
        "Pavardė": "name",
        "Kalba": "language",
        "Kliento ID": "customer_key",
    }
    assert (report.rows, report.created, report.updated, report.unchanged) == (11, 4, 1, 1)
    assert (report.merged, report.skipped, report.error_count) == (2, 3, 4)
    assert _errors(report) == [
        (5, "E-mail", "invalid_email", True),
        (7, "E-mail", "missing_email", True),
        (9, "Kalba", "unknown_language", False),
        (10, "E-mail", "invalid_email", True),
    ]
    assert report.errors[0].value == "Šarūnas@example.com"
    assert "not a valid email address" in report.errors[0].message
    assert report.errors[2].value == "de"
    assert _contacts(store) == {
        "jonas.jonaitis@example.com": ("1001", "Jonas Jonaitis", "en"),
        "ruta.zemaitiene@example.com": ("1002", "Rūta Žemaitienė", "lt"),
        "egle.petraityte@example.com": ("1004", "Eglė Petraitytė-Kazlauskienė", "lt"),
        "andrius@example.com": ("1006", "Andrius; jaunesnysis Mažeika", ""),
        "ieva@example.lv": ("1008", "Ieva Liepiņa", "lv"),
        "tomas@example.com": ("1009", "Tomas Tomaitis", "lt"),
    }
    entry = AuditLogEntry.objects.get(action="contacts.imported")
    assert entry.organisation == store.organisation
    assert entry.actor == actor.user
    assert entry.object_id == str(store.pk)
    assert entry.details["created"] == 4
    assert entry.details["error_count"] == 4
    assert "jonas" not in str(entry.details)  # counts only, no personal data


def test_importing_the_same_file_again_changes_nothing(store: Any, actor: Actor) -> None:
    first = imports.contacts_import_csv(store=store, actor=actor, file_bytes=MESSY_TEXT.encode())
    before = _contacts(store)

    again = imports.contacts_import_csv(store=store, actor=actor, file_bytes=MESSY_TEXT.encode())

    assert (first.created, first.updated, first.unchanged) == (6, 0, 0)
    assert (again.created, again.updated, again.unchanged, again.merged) == (0, 0, 6, 2)
    assert _contacts(store) == before


def test_contacts_of_other_stores_are_not_touched(
    store: Any, actor: Actor, other_organisation: Any
) -> None:
    sister = StoreFactory(organisation=store.organisation)
    theirs = StoreFactory(organisation=other_organisation)
    for other in (sister, theirs):
        Contact.objects.create(
            organisation=other.organisation, store=other, email="tomas@example.com", name="Kitas"
        )

    report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=MESSY_TEXT.encode())

    assert report.created == 6
    assert Contact.objects.get(store=sister).name == "Kitas"
    assert Contact.objects.get(store=theirs).name == "Kitas"


def test_comma_file_with_commas_in_quoted_names_and_english_headers(
    store: Any, actor: Actor
) -> None:
    text = (
        "Customer ID,Email Address,Name,Language\n"
        '17,"ana@example.ro","Popescu, Ana",ro-RO\n'
        '18,"petr@example.cz","Novák, Petr",Czech\n'
        "19,mailto:liis@example.ee,Liis Tamm,eesti\n"
        '20,"Mari Mets <mari@example.ee>",,ET\n'
    )

    report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=text.encode())

    assert (report.delimiter, report.created, report.error_count) == (",", 4, 0)
    assert _contacts(store) == {
        "ana@example.ro": ("17", "Popescu, Ana", "ro"),
        "petr@example.cz": ("18", "Novák, Petr", "cs"),
        "liis@example.ee": ("19", "Liis Tamm", "et"),
        "mari@example.ee": ("20", "", "et"),
    }


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("el. paštas", "email"),
        ("e-pasts", "email"),
        ("e-post", "email"),
        ("E-posti aadress", "email"),
        ("Email Address", "email"),
        ("Adresă de e-mail", "email"),
        ("Customer e-mail", "email"),
        ("CustomerID", "customer_key"),
        ("customer_id", "customer_key"),
        ("Kliento kodas", "customer_key"),
        ("Vardas", "name"),
        ("Name", "name"),
        ("Jméno a příjmení", "name"),
        ("Language", "language"),
        ("Kalba", "language"),
        ("Valoda", "language"),
        ("Limba", "language"),
    ],
)
def test_headers_in_several_languages_are_recognised(header: str, field: str) -> None:
    columns = imports.detect_columns(["Whatever", header])
    assert columns.get(1) == field


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("LT", "lt"),
        ("lt", "lt"),
        ("lt-LT", "lt"),
        ("lt_LT", "lt"),
        ("Lithuanian", "lt"),
        ("lietuvių", "lt"),
        ("en-GB", "en"),
        ("latviešu", "lv"),
        ("Eesti", "et"),
        ("čeština", "cs"),
        ("CZ", "cs"),
        ("Română", "ro"),
        ("", ""),
        ("de", None),
        ("Deutsch", None),
        ("ru-RU", None),
    ],
)
def test_language_values(value: str, code: str | None) -> None:
    assert imports.language_code(value) == code


def test_explicit_mapping_with_a_name_in_two_columns(store: Any, actor: Actor) -> None:
    text = "Pirkėjas\tPaštas\tPavardė\tKodas\tPastaba\nAušra\tausra@example.lt\tKairė\tA-1\tVIP\n"

    report = imports.contacts_import_csv(
        store=store,
        actor=actor,
        file_bytes=text.encode(),
        mapping={
            "Pirkėjas": "name",
            "Paštas": "email",
            "Pavardė": "name",
            "Kodas": "customer_key",
            "Pastaba": "",
        },
    )

    assert (report.delimiter, report.created) == ("\t", 1)
    assert _contacts(store) == {"ausra@example.lt": ("A-1", "Aušra Kairė", "")}


def test_a_list_of_bare_addresses_without_a_header(store: Any, actor: Actor) -> None:
    text = "ona@example.lt\npetras@example.lt\nbroken@\n"

    report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=text.encode())

    assert (report.rows, report.created, report.skipped) == (3, 2, 1)
    assert _errors(report) == [(3, "#1", "invalid_email", True)]


def test_preview_shows_the_detected_mapping(store: Any) -> None:
    preview = imports.contacts_import_preview(
        store=store, file_bytes=MESSY_TEXT.encode("cp1257"), rows=2
    )

    assert preview["encoding"] == "cp1257"
    assert preview["mapping"] == {
        "E-mail": "email",
        "Vardas": "name",
        "Pavardė": "name",
        "Kalba": "language",
        "Kliento ID": "customer_key",
    }
    assert preview["rows"][1] == [
        "ruta.zemaitiene@example.com",
        "Rūta",
        "Žemaitienė",
        "lt-LT",
        "1002",
    ]


# --- Fatal files import nothing


def _fatal(store: Any, actor: Actor, data: bytes, **kwargs: Any) -> imports.ImportReport:
    report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=data, **kwargs)
    assert report.fatal
    assert not report.ok
    assert (report.created, report.updated) == (0, 0)
    assert Contact.objects.count() == 0
    assert not AuditLogEntry.objects.filter(action="contacts.imported").exists()
    return report


def test_no_email_column_is_fatal(store: Any, actor: Actor) -> None:
    report = _fatal(store, actor, b"Vardas;Telefonas\nJonas;+37060000000\n")
    assert "No email column" in report.fatal


def test_more_than_half_invalid_is_fatal_even_for_the_valid_rows(store: Any, actor: Actor) -> None:
    text = "Email;Name\nok@example.com;Ok\nJonas Jonaitis;Jonas\n+37060000000;Ona\n"

    report = _fatal(store, actor, text.encode())

    assert "2 of 3 rows have no valid email" in report.fatal
    assert [e.row for e in report.errors] == [3, 4]  # the list still tells which rows


def test_exactly_half_invalid_is_imported(store: Any, actor: Actor) -> None:
    text = "Email\nok@example.com\nnope\n"
    report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=text.encode())
    assert (report.fatal, report.created, report.skipped) == ("", 1, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook"),
        (b"\x00\x01\x02binary\x00\x00\xff" * 50, "not a text file"),
        (b"", "empty"),
        (b"Email;Name\n", "no rows"),
        (b"\xef\xbb\xbfEmail\n\xff\xfe broken\n", "says it is UTF-8"),  # a BOM, then not
        (b'Email\n"' + b"a" * 200_000 + b'"\n', "could not be read near line 2"),
    ],
)
def test_unreadable_files_are_fatal(store: Any, actor: Actor, data: bytes, message: str) -> None:
    report = _fatal(store, actor, data)
    assert message in report.fatal


def test_too_many_rows_is_fatal(store: Any, actor: Actor, monkeypatch: Any) -> None:
    monkeypatch.setattr(imports, "MAX_ROWS", 10)
    text = "Email\n" + "".join(f"c{n}@example.com\n" for n in range(11))
    report = _fatal(store, actor, text.encode())
    assert "more than 10 rows" in report.fatal


def test_mapping_to_a_missing_column_is_fatal(store: Any, actor: Actor) -> None:
    report = _fatal(store, actor, b"Email\na@example.com\n", mapping={"Mail": "email"})
    assert "no column" in report.fatal


def test_a_failure_while_writing_rolls_the_whole_import_back(
    store: Any, actor: Actor, monkeypatch: Any
) -> None:
    def fail(**kwargs: Any) -> None:
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(imports, "_audit", fail)
    with pytest.raises(RuntimeError):
        imports.contacts_import_csv(store=store, actor=actor, file_bytes=MESSY_TEXT.encode())
    assert Contact.objects.count() == 0


# --- Bulk queries: the number of queries does not grow with the file


def test_query_count_does_not_depend_on_the_number_of_rows(
    store: Any, actor: Actor, django_assert_max_num_queries: Any
) -> None:
    Contact.objects.bulk_create(
        Contact(organisation=store.organisation, store=store, email=f"c{n}@example.com")
        for n in range(0, 3000, 3)
    )
    text = "Email,Name\n" + "".join(f"c{n}@example.com,Customer {n}\n" for n in range(3000))

    # Lock, read existing, insert, update, audit (+ savepoints and the user).
    with django_assert_max_num_queries(8):
        report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=text.encode())

    assert (report.created, report.updated) == (2000, 1000)
    assert Contact.objects.filter(store=store, name="Customer 2999").count() == 1


# --- A realistic file from real customers (UCI Online Retail)

# The store's export derives a language from the country; some are not survey languages.
COUNTRY_LANGUAGE = {
    "United Kingdom": "en-GB",
    "EIRE": "en",
    "Australia": "en-AU",
    "Norway": "no",
    "Germany": "de",
    "France": "fr",
    "Netherlands": "nl",
}


def _blanked(customer_id: str) -> bool:
    """Customers whose address the shop does not have."""
    return int(float(customer_id)) % 7 == 0


def test_realistic_file_from_online_retail(store: Any, actor: Actor) -> None:
    if not ONLINE_RETAIL.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"The real data set is missing on CI: {ONLINE_RETAIL}")
        pytest.skip(f"No shared data beside this checkout ({ONLINE_RETAIL}); set SHARED_DATA_DIR")
    with gzip.open(ONLINE_RETAIL, "rt", encoding="utf-8", newline="") as source:
        lines = list(itertools.islice(csv.DictReader(source), 2000))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["CustomerID", "Country", "Email", "Language"])
    for line in lines:
        raw_id = line["CustomerID"]  # as written: "17850.0", or empty
        email = ""
        if raw_id and not _blanked(raw_id):
            email = f"customer{raw_id.removesuffix('.0')}@example.com"
        writer.writerow([raw_id, line["Country"], email, COUNTRY_LANGUAGE[line["Country"]]])

    # The expected figures, counted from the source directly.
    with_email = [line for line in lines if line["CustomerID"] and not _blanked(line["CustomerID"])]
    customers = {line["CustomerID"] for line in with_email}
    unsupported = [
        line for line in with_email if COUNTRY_LANGUAGE[line["Country"]][:2] not in {"en"}
    ]
    no_email = len(lines) - len(with_email)
    assert 0 < no_email < len(lines) / 2 and unsupported  # the file is messy, not fatal

    report = imports.contacts_import_csv(
        store=store, actor=actor, file_bytes=out.getvalue().encode()
    )

    assert report.fatal == ""
    assert report.rows == 2000
    assert report.created == len(customers) == Contact.objects.filter(store=store).count()
    assert report.skipped == no_email
    assert report.merged == len(with_email) - len(customers)
    assert report.error_count == no_email + len(unsupported)
    assert sum(e.code == "missing_email" for e in report.errors) == no_email
    assert sum(e.code == "unknown_language" for e in report.errors) == len(unsupported)
    stored = {c.customer_key: c for c in Contact.objects.filter(store=store)}
    assert set(stored) == {raw.removesuffix(".0") for raw in customers}
    for key, contact in stored.items():
        assert contact.email == f"customer{key}@example.com"
    english = {
        line["CustomerID"].removesuffix(".0")
        for line in with_email
        if COUNTRY_LANGUAGE[line["Country"]].startswith("en")
    }
    assert {k for k, c in stored.items() if c.language == "en"} == english


# --- Bounce lists


def _invitation(store: Any, contact: Contact, status: str) -> Invitation:
    survey = Survey.objects.filter(store=store).first() or Survey.objects.create(
        organisation=store.organisation, store=store, name="CSAT", kind="csat", status="active",
        trigger_event="purchase", languages=["lt"], default_language="lt",
    )  # fmt: skip
    nonce = tokens.new_nonce()
    return Invitation.objects.create(
        survey=survey, contact=contact, status=status, nonce=nonce,
        token_hash=tokens.token_hash(tokens.token_for(nonce)), language="lt",
        due_at=timezone.now(), sent_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip


def test_bounce_list_suppresses_known_addresses(store: Any, actor: Actor) -> None:
    def contact(email: str, **fields: Any) -> Contact:
        return Contact.objects.create(
            organisation=store.organisation, store=store, email=email, **fields
        )

    hard = contact("hard@example.com")
    sent = _invitation(store, hard, Invitation.Status.SENT)
    spam = contact("spam@example.com")
    earlier = timezone.now() - timedelta(days=3)
    old = contact("old@example.com", suppressed_at=earlier, suppression_reason="manual")
    text = (
        "Email;Reason\n"
        "HARD@example.com;550 5.1.1 mailbox unavailable\n"
        "spam@example.com;complaint\n"
        "old@example.com;bounce\n"
        "stranger@example.com;bounce\n"
        "broken;bounce\n"
        "spam@example.com;\n"
    )

    report = imports.bounces_import_csv(store=store, actor=actor, file_bytes=text.encode())

    assert report.fatal == ""
    assert (report.rows, report.suppressed, report.unchanged, report.not_found) == (6, 2, 1, 1)
    assert (report.merged, report.skipped, report.created) == (1, 1, 0)
    assert _errors(report) == [(6, "Email", "invalid_email", True)]
    hard.refresh_from_db()
    spam.refresh_from_db()
    old.refresh_from_db()
    assert hard.suppression_reason == "550 5.1.1 mailbox unavailable"
    assert spam.suppression_reason == "complaint"  # the blank later reason does not win
    assert (old.suppressed_at, old.suppression_reason) == (earlier, "manual")
    sent.refresh_from_db()
    assert sent.status == Invitation.Status.BOUNCED
    assert not Contact.objects.filter(email="stranger@example.com").exists()
    assert AuditLogEntry.objects.get(action="contacts.bounces_imported").details["suppressed"] == 2


def test_bounce_list_without_email_column_suppresses_nothing(store: Any, actor: Actor) -> None:
    Contact.objects.create(organisation=store.organisation, store=store, email="a@example.com")
    report = imports.bounces_import_csv(
        store=store, actor=actor, file_bytes=b"Address;Reason\nsomething;bounce\n"
    )
    assert "No email column" in report.fatal
    assert not Contact.objects.filter(suppressed_at__isnull=False).exists()


def test_a_nul_character_deep_in_a_file_is_dropped_not_a_server_error(
    store: Any, actor: Actor
) -> None:
    """Only the start of a file is checked for being text; a stray NUL further down (a
    broken export) must not reach PostgreSQL, whose text cannot hold it."""
    rows = "".join(f"buyer{n}@example.com,Buyer {n}\n" for n in range(400))
    data = ("email,name\n" + rows + "ona@example.com,On\x00a\n").encode()

    report = imports.contacts_import_csv(store=store, actor=actor, file_bytes=data)

    assert (report.created, report.skipped) == (401, 0)
    assert Contact.objects.get(email="ona@example.com").name == "Ona"
