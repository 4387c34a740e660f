"""The field-kind registry (app/metamodel/kinds): one entry per YAML type owns parsing, display, history text,
column type and spec options. Rule tables per kind, each row with its reason; no database, no app."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Integer, Numeric, String
from sqlalchemy.dialects import postgresql, sqlite

from app.metamodel.kinds import Money, all_kinds, kind_named, kind_names, render_item
from app.metamodel.revision_ops import type_change_is_safe
from app.metamodel.spec import FieldSpec
from tests.unit.spec_support import issue, issues_for, spec_for, write_config

ROOT = Path(__file__).resolve().parents[2]


def parse(kind: str, text: str):
    return kind_named(kind).parse(text)


# --- parse: (kind, typed, stored) --------------------------------------------------------------------
VALID = [
    ("iban", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),  # printed form, groups of four
    ("iban", "de89370400440532013000", "DE89370400440532013000"),       # lower case, compact
    ("iban", "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),    # another country's format
    ("email", "G.Wonlos@Example.DE", "G.Wonlos@example.de"),            # domain lower-cased, local part kept
    ("email", " amt@bezirk.berlin.de ", "amt@bezirk.berlin.de"),        # blanks around, subdomains
    ("phone", "030 1234567", "030 1234567"),                            # national form kept
    ("phone", "0049 30 1234567", "+49 30 1234567"),                     # 00 → +
    ("phone", "+49 (0)30  1234567", "+49 30 1234567"),                  # the "(0)" trunk prefix and double blank
    ("phone", "0221/123-45", "0221/123-45"),                            # slash and dash are common
    ("money", "1.234,56 €", Decimal("1234.56")),                        # as printed
    ("money", "1234.56", Decimal("1234.56")),                           # decimal point
    ("money", "5", Decimal("5.00")),                                    # always to the cent
    ("percent", "12,5", Decimal("12.5")),                               # decimal comma
    ("decimal", "0,1234", Decimal("0.1234")),                           # four places
    ("date", "03.11.2025", date(2025, 11, 3)),                          # TT.MM.JJJJ
    ("date", "2025-11-03", date(2025, 11, 3)),                          # ISO
]


@pytest.mark.parametrize(("kind", "text", "expected"), VALID, ids=[f"{k}:{t}" for k, t, _ in VALID])
def test_valid_input_is_stored_in_normal_form(kind, text, expected):
    assert parse(kind, text) == expected


# --- refusals: (kind, typed, German message) ---------------------------------------------------------
INVALID = [
    ("iban", "DE88 3704 0044 0532 0130 00", "Die IBAN „DE88 3704 0044 0532 0130 00“ ist ungültig: Prüfziffer falsch."),
    ("iban", "DE89 3704 0044", "Die IBAN „DE89 3704 0044“ ist ungültig: falsche Länge."),  # cut off
    ("iban", "XX89370400440532013000", "Die IBAN „XX89370400440532013000“ ist ungültig: unbekanntes Länderkürzel."),
    ("iban", "DE8937040044053201300A",  # a letter where Germany has digits
     "Die IBAN „DE8937040044053201300A“ ist ungültig: Aufbau passt nicht zum Land."),
    ("email", "kein-at-zeichen", "„kein-at-zeichen“ ist keine gültige E-Mail-Adresse (z. B. name@beispiel.de)."),
    ("email", "a@b", "„a@b“ ist keine gültige E-Mail-Adresse (z. B. name@beispiel.de)."),  # no top-level domain
    ("email", "a..b@amt.de", "„a..b@amt.de“ ist keine gültige E-Mail-Adresse (z. B. name@beispiel.de)."),
    ("email", "a b@amt.de", "„a b@amt.de“ ist keine gültige E-Mail-Adresse (z. B. name@beispiel.de)."),
    ("phone", "abc", "„abc“ ist keine gültige Telefonnummer (z. B. 030 1234567 oder +49 30 1234567)."),
    ("phone", "1234", "„1234“ ist keine gültige Telefonnummer (z. B. 030 1234567 oder +49 30 1234567)."),  # too short
    ("phone", "030 123 ext. 5", "„030 123 ext. 5“ ist keine gültige Telefonnummer (z. B. 030 1234567 oder +49 30 1234567)."),
    ("money", "12,345", "Höchstens 2 Nachkommastellen erlaubt."),
    ("money", "zwölf", "'zwölf' ist kein gültiger Betrag (z. B. 1.234,50)"),
    ("percent", "12,555", "Höchstens 2 Nachkommastellen erlaubt."),
    ("date", "31.02.1980", "'31.02.1980' ist kein gültiges Datum (TT.MM.JJJJ)"),
]


@pytest.mark.parametrize(("kind", "text", "message"), INVALID, ids=[f"{k}:{t}" for k, t, _ in INVALID])
def test_invalid_input_gets_a_german_message(kind, text, message):
    with pytest.raises(ValueError) as caught:
        parse(kind, text)
    assert str(caught.value) == message


def test_normalise_keeps_what_it_cannot_read():
    # The form or REST validator reports a bad value; the flush never replaces it by something else.
    assert kind_named("iban").normalise("DE88 3704 0044 0532 0130 00") == "DE88 3704 0044 0532 0130 00"
    assert kind_named("iban").normalise("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"


# --- display (lists, show page) and history text: (kind, value, display, history) ---------------------
SHOWN = [
    ("money", Decimal("1234.5"), "1.234,50 €", "1.234,50 €"),
    ("percent", Decimal("12.5000"), "12,5 %", "12,5 %"),
    ("iban", "DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("boolean", False, "nein", "nein"),
    ("date", date(2025, 3, 1), "01.03.2025", "01.03.2025"),
    ("decimal", Decimal("12.5000"), Decimal("12.5000"), "12,5"),  # lists show it as FAB does; history German
    ("string", "Wonlos", "Wonlos", "Wonlos"),
    ("money", None, "", None),                                   # nothing is nothing, not "0,00 €"
]


@pytest.mark.parametrize(("kind", "value", "display", "history"), SHOWN,
                         ids=[f"{k}:{v}" for k, v, _, _ in SHOWN])
def test_display_and_history_text(kind, value, display, history):
    assert kind_named(kind).display(value) == display
    assert kind_named(kind).history_text(value) == history


# --- columns and migrations ---------------------------------------------------------------------------
def _field(kind: str, **extra) -> FieldSpec:
    return FieldSpec(name="x", type=kind, label="X", **extra)


@pytest.mark.parametrize(("kind", "ddl"), [
    ("money", "NUMERIC(14, 2)"), ("percent", "NUMERIC(7, 4)"), ("iban", "VARCHAR(34)"), ("email", "VARCHAR(254)"),
    ("phone", "VARCHAR(40)"), ("decimal", "NUMERIC(14, 4)"), ("string", "VARCHAR(200)"),
], ids=["money", "percent", "iban", "email", "phone", "decimal", "string"])
def test_column_types(kind, ddl):
    sa_type = kind_named(kind).sa_type(_field(kind))
    assert sa_type.compile(dialect=postgresql.dialect()) == ddl


def test_money_column_is_decimal_half_up_never_float():
    money = Money()
    bind = money.process_bind_param
    assert bind(Decimal("2.675"), sqlite.dialect()) == Decimal("2.68")
    assert bind(Decimal("0.005"), postgresql.dialect()) == Decimal("0.01")
    with pytest.raises(TypeError):
        bind(2.675, sqlite.dialect())
    # SQLite hands NUMERIC back as a float: read through its text, it is the cent amount stored.
    assert money.process_result_value(1234.56, sqlite.dialect()) == Decimal("1234.56")
    assert money.process_result_value(None, sqlite.dialect()) is None


@pytest.mark.parametrize(("old", "new", "safe"), [
    (Numeric(12, 2), Money(), True),      # the old money column widens to the Money type
    (Money(), Numeric(10, 2), False),     # narrower: values may not fit
    (Money(), Numeric(16, 4), True),      # more digits on both sides
    (Integer(), Money(), True),           # whole euros become euros and cents
    (String(34), Money(), False),         # text is not an amount
], ids=["widen", "narrow", "wider", "from-int", "from-text"])
def test_type_change_safety_sees_through_money(old, new, safe):
    assert type_change_is_safe(old, new) is safe


def test_revision_files_write_money_as_numeric():
    assert render_item("type", Money(), None) == "sa.Numeric(precision=14, scale=2)"
    assert render_item("type", Numeric(14, 2), None) is False


def test_percent_is_bounded_0_to_100_unless_the_yaml_says_otherwise():
    assert kind_named("percent").bounds(_field("percent")) == (Decimal(0), Decimal(100))
    assert kind_named("percent").bounds(_field("percent", max=Decimal(200))) == (Decimal(0), Decimal(200))
    check = kind_named("percent").api_validator(_field("percent"))
    check(Decimal("12.5"))
    with pytest.raises(Exception, match="zwischen 0 und 100"):
        check(Decimal("120"))


# --- the registry as a list and in the spec ----------------------------------------------------------
def test_every_kind_describes_itself_for_a_field_editor():
    kinds = {k.name: k for k in all_kinds()}
    assert set(kinds) == set(kind_names())
    assert {"string", "text", "integer", "decimal", "money", "percent", "date", "datetime", "boolean", "choice",
            "multichoice", "ref", "user", "file", "iban", "email", "phone"} == set(kinds)
    assert all(k.label for k in kinds.values())  # German, shown to admins
    assert kinds["iban"].label == "IBAN" and kinds["money"].label == "Geldbetrag (€)"
    assert kinds["choice"].required_options == ("catalogue",)
    assert kinds["ref"].required_options == ("ref",)
    assert kinds["percent"].options == ("min", "max")
    assert kinds["string"].options == ("length", "street_picker")


def test_new_kinds_load_from_yaml(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: payment
            label: Zahlung
            fields:
              - {name: iban, type: iban, label: IBAN}
              - {name: share, type: percent, label: Anteil, max: "50"}
              - {name: amount, type: money, label: Betrag, min: "0"}
              - {name: mail, type: email, label: E-Mail}
              - {name: phone, type: phone, label: Telefon}
        """)
    spec = spec_for(root)
    assert [f.type for f in spec.entity("payment").fields] == ["iban", "percent", "money", "email", "phone"]


def test_unknown_kind_is_reported_with_file_and_line(tmp_path):
    root = write_config(tmp_path, """\
        entities:
          - name: payment
            label: Zahlung
            fields:
              - {name: iban, type: ibna, label: IBAN}
              - {name: code, type: iban, length: 20, label: Kennung}
        """)
    found = issues_for(root)
    file = root / "entities.yaml"
    assert found[0] == issue("E012", file, 5, "entities[0].fields[0].type", "unbekannter Feldtyp 'ibna'",
                             "Meinten Sie 'iban'?")
    # Options the kind does not accept are refused as for any other kind.
    root = write_config(tmp_path / "b", """\
        entities:
          - name: payment
            label: Zahlung
            fields:
              - {name: code, type: iban, length: 20, label: Kennung}
        """)
    assert issues_for(root) == [issue("E116", root / "entities.yaml", 5, "entities[0].fields[0].length",
                                      "'length' gilt nur für Feldtyp 'string', nicht 'iban'")]


# --- no dispatch on field types outside the registry --------------------------------------------------
DISPATCH = re.compile(r"\.type\s*(==|!=|\bin\b|\bnot in\b)|match\s+\w+\.type\b")


def test_no_field_type_dispatch_outside_the_registry():
    """Behaviour per kind lives in app/metamodel/kinds; elsewhere code asks kind_of(field)."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if (ROOT / "app" / "metamodel" / "kinds") in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if DISPATCH.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
