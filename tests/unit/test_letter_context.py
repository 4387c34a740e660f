"""The letter context: address block per DIN 5008, salutations, the address valid today, letterhead, case data."""
from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from app.letters.context import (build_context, current_address, format_money, format_time, recipient_block,
                                 salutation, salutation_title)
from app.letters.placeholders import INPUT_FIELDS, LIST_PLACEHOLDERS, PLACEHOLDERS, Missing, missing_values

TODAY = date(2026, 11, 3)


def person(sex="male", title=None, first_name="Günther", surname="Wonlos"):
    return NS(kind=NS(code="person"), sex=NS(code=sex) if sex else None, title=title, first_name=first_name,
              surname=surname)


def institution(name="Amtsgericht Paderborn"):
    return NS(kind=NS(code="institution"), sex=None, title=None, first_name=None, surname=name)


def address(**values):
    base = dict(id=1, kind=NS(code="main"), care_of=None, street="Lagesche Str.", house_number="1",
                postcode="33102", city="Paderborn", country="Deutschland", valid_from=None, valid_to=None)
    return NS(**{**base, **values})


@pytest.mark.parametrize(("partner", "expected"), [
    (person("male"), "Sehr geehrter Herr Wonlos,"),
    (person("female", first_name="Gisela"), "Sehr geehrte Frau Wonlos,"),
    (person("male", title="Dr."), "Sehr geehrter Herr Dr. Wonlos,"),
    (person("female", title="Prof. Dr. med."), "Sehr geehrte Frau Prof. Dr. Wonlos,"),
    (person("male", title="Dipl.-Ing."), "Sehr geehrter Herr Wonlos,"),
    (person("diverse", first_name="Kim"), "Guten Tag Kim Wonlos,"),
    (person("unknown"), "Guten Tag Günther Wonlos,"),
    (person(None), "Guten Tag Günther Wonlos,"),
    (person("diverse", title="Dr.", first_name="Kim"), "Guten Tag Dr. Kim Wonlos,"),
    (institution(), "Sehr geehrte Damen und Herren,"),
], ids=["man", "woman", "doctor", "professor-faculty-dropped", "diploma-not-in-salutation", "diverse",
        "no-information", "sex-empty", "diverse-doctor", "institution"])
def test_salutation(partner, expected):
    assert salutation(partner) == expected


@pytest.mark.parametrize(("title", "expected"), [
    ("Dr. rer. nat.", "Dr."), ("Prof.", "Prof."), ("Prof. Dr.", "Prof. Dr."), ("M. A.", ""), (None, ""),
], ids=["faculty", "professor", "both", "master", "none"])
def test_salutation_title(title, expected):
    assert salutation_title(title) == expected


@pytest.mark.parametrize(("partner", "addr", "lines"), [
    (person("male", title="Dr."), address(),
     ["Herrn", "Dr. Günther Wonlos", "Lagesche Str. 1", "33102 Paderborn"]),
    (person("female", first_name="Gisela"), address(),
     ["Frau", "Gisela Wonlos", "Lagesche Str. 1", "33102 Paderborn"]),
    (person("diverse", first_name="Kim"), address(),
     ["Kim Wonlos", "Lagesche Str. 1", "33102 Paderborn"]),
    (person("male"), address(care_of=person("female", first_name="Maria", surname="Muster")),
     ["Herrn", "Günther Wonlos", "c/o Maria Muster", "Lagesche Str. 1", "33102 Paderborn"]),
    (person("male"), address(care_of=institution("Diakonie Paderborn e. V.")),
     ["Herrn", "Günther Wonlos", "c/o Diakonie Paderborn e. V.", "Lagesche Str. 1", "33102 Paderborn"]),
    (person("male"), address(country="Österreich", postcode="1010", city="Wien", street="Ring", house_number="3"),
     ["Herrn", "Günther Wonlos", "Ring 3", "1010 Wien", "ÖSTERREICH"]),
    (person("male"), address(country=None), ["Herrn", "Günther Wonlos", "Lagesche Str. 1", "33102 Paderborn"]),
    (institution(), address(street="Am Bogen", house_number="2-4", postcode="33098"),
     ["Amtsgericht Paderborn", "Am Bogen 2-4", "33098 Paderborn"]),
], ids=["man-with-title", "woman", "diverse-no-word-line", "care-of-person", "care-of-institution", "abroad",
        "country-empty", "institution"])
def test_address_block_din_5008(partner, addr, lines):
    block = recipient_block(partner, addr)
    assert block["address_lines"] == lines
    assert block["address"] == "\n".join(lines)
    assert len(lines) <= 6 and "" not in lines


def test_no_address_is_missing_not_blank():
    block = recipient_block(person(), None)
    assert isinstance(block["address"], Missing)
    assert "Anschrift" in block["address"].label
    assert block["salutation"] == "Sehr geehrter Herr Wonlos,"


@pytest.mark.parametrize(("addresses", "expected"), [
    ([address(id=1)], 1),
    ([address(id=1, valid_to=date(2026, 10, 31)), address(id=2, valid_from=date(2026, 11, 1))], 2),
    ([address(id=1, valid_from=date(2026, 12, 1))], None),
    ([address(id=1), address(id=2, kind=NS(code="postal"))], 2),
    ([address(id=1, kind=NS(code="secondary")), address(id=2, kind=NS(code="care_of"))], 2),
    ([address(id=1, valid_from=date(2025, 1, 1)), address(id=2, valid_from=date(2026, 6, 1))], 2),
    ([address(id=1, valid_to=TODAY)], 1),
    ([], None),
], ids=["only-one", "moved", "not-yet-valid", "postal-wins", "care-of-before-secondary", "latest-main",
        "valid-until-today", "none"])
def test_current_address(addresses, expected):
    found = current_address(addresses, TODAY)
    assert (found.id if found else None) == expected


def test_build_context_fills_letterhead_case_and_appointment():
    user = NS(first_name="Max", last_name="Supervisor", email="max@fachstelle.invalid")
    staff = NS(address_as="Herr", room="204", phone="0411/11151223", fax=None, email=None, sign="27/92",
               consultation_hours=None)
    unit = NS(name="Fachstelle Nord", address="Rathausplatz 1, 33100 Paderborn", phone="05251 88-0",
              email="nord@example.org")
    office = NS(authority="Stadt Paderborn", return_address=None, fax="05251 88-99", consultation_hours="Di 9–12 Uhr",
                legal_remedy=None)
    case = NS(file_number="2026/0001", opened_on=date(2026, 11, 1))
    emergency = NS(eviction_date=date(2026, 12, 15), rent_arrears=Decimal("2345.6"))
    appointment = NS(starts_on=date(2026, 11, 12), starts_at="09:30", place=NS(code="office"), location=None)
    ctx = build_context(person(), addresses=[address()], user=user, staff=staff, org_unit=unit, office=office,
                        case=case, emergency=emergency, appointment=appointment, today=TODAY)
    assert ctx["clerk"] == {"name": "Max Supervisor", "info_name": "Herr Supervisor", "room": "204",
                            "phone": "0411/11151223", "fax": "05251 88-99", "email": "nord@example.org",
                            "sign": "27/92", "consultation_hours": ""}
    assert ctx["office"]["return_address"] == "Stadt Paderborn · Rathausplatz 1 · 33100 Paderborn"
    assert ctx["office"]["address_lines"] == ["Rathausplatz 1", "33100 Paderborn"]
    assert ctx["letter"] == {"date": "03.11.2026", "your_letter_of": "", "your_ref": "", "my_ref": "27/92"}
    assert ctx["case"]["eviction_date"] == "15.12.2026"
    assert ctx["case"]["rent_arrears"] == "2.345,60 €"
    assert ctx["appointment"] == {"date": "12.11.2026", "weekday": "Donnerstag", "time": "09:30 Uhr",
                                  "place": "Fachstelle Nord, Rathausplatz 1, 33100 Paderborn, Zimmer 204"}
    assert isinstance(ctx["notice"]["legal_remedy"], Missing)
    assert isinstance(ctx["case"]["court"], Missing)


def test_extra_overrides_and_formats_and_empty_keeps_file_data():
    ctx = build_context(person(), address=address(), case=NS(file_number="A-1"),
                        emergency=NS(eviction_date=date(2026, 12, 15)), today=TODAY,
                        extra={"appointment": {"date": date(2026, 11, 17), "time": time(14, 5), "place": "Raum 3"},
                               "case": {"court": "Amtsgericht Paderborn", "eviction_date": ""},
                               "letter": {"your_letter_of": date(2026, 10, 1)}})
    assert ctx["appointment"] == {"date": "17.11.2026", "weekday": "Dienstag", "time": "14:05 Uhr",
                                  "place": "Raum 3"}
    assert ctx["case"]["court"] == "Amtsgericht Paderborn"
    assert ctx["case"]["eviction_date"] == "15.12.2026"
    assert ctx["letter"]["your_letter_of"] == "01.10.2026"
    assert ctx["letter"]["my_ref"] == "A-1"  # no sign of the clerk: the file number


def test_unknown_extra_is_a_programming_error():
    with pytest.raises(ValueError, match="appointment.'datum'"):
        build_context(person(), address=address(), today=TODAY, extra={"appointment": {"datum": "x"}})


def test_missing_values_are_listed_once_each():
    ctx = build_context(person(), address=None, today=TODAY)
    names = ["recipient.address", "recipient.street", "appointment.date", "appointment.weekday", "recipient.name"]
    assert missing_values(ctx, names) == [
        "Anschrift des Empfängers (beim Partner ist heute keine vollständige Adresse gültig)", "Termin: Datum"]


def test_missing_is_false_and_takes_a_default_but_cannot_be_printed():
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from app.letters.placeholders import MissingValueError
    env = ImmutableSandboxedEnvironment(autoescape=True)
    value = {"date": Missing("Termin: Datum")}
    assert env.from_string("{% if a.date %}x{% else %}leer{% endif %}").render(a=value) == "leer"
    assert env.from_string("{{ a.date|default('nach Vereinbarung') }}").render(a=value) == "nach Vereinbarung"
    with pytest.raises(MissingValueError, match="Termin: Datum"):
        env.from_string("{{ a.date }}").render(a=value)


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("0"), "0,00 €"), (Decimal("1234.5"), "1.234,50 €"), (Decimal("0.005"), "0,01 €"),
], ids=["zero", "thousands", "half-up"])
def test_money(value, expected):
    assert format_money(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("09:30", "09:30 Uhr"), (time(8, 0), "08:00 Uhr"), ("10:00 Uhr", "10:00 Uhr"), (None, ""),
], ids=["text", "time", "already", "none"])
def test_time(value, expected):
    assert format_time(value) == expected


def test_placeholder_names_do_not_hide_dict_methods():
    # In Jinja, recipient.items would be dict.items, not a key: no placeholder may be named like a method.
    for group, keys in PLACEHOLDERS.items():
        for key in keys:
            assert not hasattr({}, key), f"{group}.{key}"
    assert LIST_PLACEHOLDERS <= {f"{g}.{k}" for g, keys in PLACEHOLDERS.items() for k in keys}
    assert set(INPUT_FIELDS) <= {f"{g}.{k}" for g, keys in PLACEHOLDERS.items() for k in keys}


def test_sample_context_is_complete():
    from app.letters.context import sample_context
    ctx = sample_context()
    names = [f"{g}.{k}" for g, keys in PLACEHOLDERS.items() for k in keys]
    assert missing_values(ctx, names) == []
    assert set(ctx) == set(PLACEHOLDERS)
    for group, keys in PLACEHOLDERS.items():
        assert set(ctx[group]) == set(keys), group
