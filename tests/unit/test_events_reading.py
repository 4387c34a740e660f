"""Reading the districts' event lists: district names, events, dates, "zu zweit", header and encoding (no DB)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from app.integrations.events_import import EventImportError, EventRow, UnitMatcher, pick_services, read_events

TODAY = date(2026, 11, 20)
BERLIN = [SimpleNamespace(id=i, code=code, name=f"Soziale Wohnhilfe {name}") for i, (code, name) in enumerate([
    ("mitte", "Mitte"), ("friedrichshain_kreuzberg", "Friedrichshain-Kreuzberg"), ("neukoelln", "Neukölln"),
    ("tempelhof_schoeneberg", "Tempelhof-Schöneberg"), ("treptow_koepenick", "Treptow-Köpenick")], start=1)]


@pytest.mark.parametrize(("value", "unit_id"), [
    ("mitte", 1),                                   # the code
    ("Soziale Wohnhilfe Mitte", 1),                 # the full name
    ("MITTE", 1),                                   # case does not matter
    ("Mitte", 1),                                   # the district's name: the last word of the unit's name
    ("Wohnhilfe Mitte", 1),                         # last words
    ("Friedrichshain-Kreuzberg", 2),                # dash as in the name
    ("friedrichshain_kreuzberg", 2),                # underscore as in the code
    ("Neukölln", 3), ("neukoelln", 3),              # umlaut or its transliteration
    ("Tempelhof-Schöneberg", 4), ("Treptow Köpenick", 5),  # space for a dash
], ids=lambda v: str(v))
def test_district_matches_code_name_or_last_words(value, unit_id):
    assert UnitMatcher(BERLIN).match(value) == (unit_id, None)


def test_unknown_district_gets_a_suggestion_or_the_known_codes():
    matcher = UnitMatcher(BERLIN)
    assert matcher.match("Mite") == (None, "Bezirk „Mite“ unbekannt (meinten Sie „Mitte“?)")
    unit_id, problem = matcher.match("Kreuzberg")  # half a district's name is not enough
    assert unit_id is None and problem.startswith("Bezirk „Kreuzberg“ unbekannt (bekannt: friedrichshain_kreuzberg, mitte")


def test_a_shared_last_word_is_ambiguous_but_the_full_name_is_not():
    matcher = UnitMatcher([SimpleNamespace(id=1, code="nord", name="Fachstelle Nord"),
                           SimpleNamespace(id=2, code="bn", name="Beratung Nord")])
    assert matcher.match("Nord") == (1, None)  # the code wins over a name's last word
    assert matcher.match("Fachstelle Nord") == (1, None)
    matcher = UnitMatcher([SimpleNamespace(id=1, code="fn", name="Fachstelle Nord"),
                           SimpleNamespace(id=2, code="bn", name="Beratung Nord")])
    assert matcher.match("Nord") == (None, "Bezirk „Nord“ ist mehrdeutig (bn, fn); bitte das Kürzel angeben")


def read(text: str | bytes, today: date = TODAY) -> list[EventRow]:
    return read_events(text.encode("utf-8") if isinstance(text, str) else text, "ereignisse.csv", BERLIN, today)


def test_both_date_formats_bom_commas_and_columns_in_any_order():
    rows = read("\ufeffdatum,Fall_ID,bezirk,ereignis,zu_zweit\r\n"
                "06.03.2023,MI-1,Mitte,klage_eingang,\r\n"
                "2023-03-22,MI-1,Mitte,Hausbesuch,JA\r\n"
                "1.4.2023,MI-1,Mitte,kontakt,nein\r\n")
    assert rows == [EventRow(2, "MI-1", 1, "klage_eingang", date(2023, 3, 6), False),
                    EventRow(3, "MI-1", 1, "hausbesuch", date(2023, 3, 22), True),
                    EventRow(4, "MI-1", 1, "kontakt", date(2023, 4, 1), False)]


def test_zu_zweit_may_be_left_out_and_blank_lines_are_skipped():
    rows = read("fall_id;bezirk;ereignis;datum\n\nMI-1;mitte;zr_anwesenheit;12.10.2023\n")
    assert rows == [EventRow(3, "MI-1", 1, "zr_anwesenheit", date(2023, 10, 12), False)]


def test_every_bad_row_is_reported_with_its_line():
    content = ("fall_id;bezirk;ereignis;datum;zu_zweit\n"
               "MI-1;Mitte;klage_eingang;06.03.2023;\n"          # 2: fine, reported nowhere
               ";Mitte;kontakt;07.03.2023;\n"                    # 3: no case number
               "MI-1;Mite;kontakt;07.03.2023;\n"                 # 4: unknown district
               "MI-1;Mitte;hausbesuc;07.03.2023;\n"              # 5: unknown event
               "MI-1;Mitte;kontakt;31.02.2024;\n"                # 6: impossible date
               "MI-1;Mitte;kontakt;2024/02/01;\n"                # 7: unknown date format
               "MI-1;Mitte;hausbesuch;08.03.2023;vielleicht\n"  # 8: bad zu_zweit
               "MI-1;Mitte;kontakt;08.03.2023;ja\n"              # 9: zu_zweit on a contact
               "MI-1;Mitte;kontakt;01.12.2026;\n"                # 10: a contact tomorrow
               "MI-1;Mitte;zr_termin;01.12.2026;\n"              # 11: fine: an eviction date is announced ahead
               "MI-1;Mitte;kontakt;01.02.0223;\n"                # 12: year typo
               f"{'X' * 41};;;;\n")                              # 13: everything at once
    with pytest.raises(EventImportError) as error:
        read(content)
    assert str(error.value).splitlines() == [
        "ereignisse.csv: Nichts importiert, die Datei enthält Fehler:",
        "Zeile 3: fall_id fehlt.",
        "Zeile 4: Bezirk „Mite“ unbekannt (meinten Sie „Mitte“?).",
        "Zeile 5: Ereignis „hausbesuc“ unbekannt (meinten Sie „hausbesuch“?).",
        "Zeile 6: Datum „31.02.2024“ gibt es nicht.",
        "Zeile 7: Datum „2024/02/01“ ist weder TT.MM.JJJJ noch JJJJ-MM-TT.",
        "Zeile 8: zu_zweit „vielleicht“ ist weder ja noch nein (oder leer).",
        "Zeile 9: zu_zweit „ja“ gilt nur für hausbesuch und zr_anwesenheit, nicht für kontakt.",
        "Zeile 10: Datum „01.12.2026“ liegt in der Zukunft.",
        "Zeile 12: Datum „01.02.0223“ liegt vor dem 01.01.1990 (Tippfehler im Jahr?).",
        "Zeile 13: fall_id ist länger als 40 Zeichen; bezirk fehlt; ereignis fehlt; datum fehlt.",
    ]


def test_many_bad_rows_are_capped():
    content = "fall_id;bezirk;ereignis;datum\n" + "MI-1;Mitte;kontakt;31.02.2024\n" * 25
    with pytest.raises(EventImportError) as error:
        read(content)
    lines = str(error.value).splitlines()
    assert len(lines) == 22 and lines[-1] == "… und 5 weitere Fehler."


@pytest.mark.parametrize(("content", "message"), [
    ("fall;bezirk;ereignis\nMI-1;Mitte;kontakt\n",
     "ereignisse.csv, Zeile 1: Kopfzeile unvollständig, es fehlt fall_id, datum. Erwartet: "
     "fall_id;bezirk;ereignis;datum;zu_zweit – gefunden: fall;bezirk;ereignis. Nichts importiert."),
    ("MI-1;Mitte;kontakt;07.03.2023\n", "Kopfzeile unvollständig, es fehlt fall_id, bezirk, ereignis, datum"),
    ("\ufeff\r\n", "ereignisse.csv: Die Datei ist leer. Nichts importiert."),
    ("fall_id;bezirk;ereignis;datum\n", "enthält keine Ereignisse, nur die Kopfzeile"),
    # Issue #10: Windows-1252 is read now (test below); a byte it does not define is neither encoding.
    (b"fall_id;bezirk;ereignis;datum\nMI-1;Mitte;kontakt;07.03.2023\nM\x81-2;Mitte;kontakt;07.03.2023\n",
     "ereignisse.csv, Zeile 3: Die Datei ist weder UTF-8 noch Windows-1252 kodiert. "
     "Bitte als „CSV UTF-8“ speichern"),
    (b"PK\x03\x04\x14\x00\x06\x00", "ereignisse.csv: Die Datei ist keine CSV-Datei (z. B. eine Excel-Arbeitsmappe)."),
], ids=["wrong-header", "no-header", "empty", "header-only", "neither-encoding", "xlsx"])
def test_file_level_problems_are_german_messages(content, message):
    with pytest.raises(EventImportError) as error:
        read(content)
    assert message in str(error.value)


def service(id_, code, point, active_to=None):
    return SimpleNamespace(id=id_, code=code, name=code.title(), active_from=None, active_to=active_to,
                           measurement_point=SimpleNamespace(code=point) if point else None)


def test_one_service_per_event_the_one_named_like_it_else_the_oldest_active():
    services = [service(3, "kontakt_neu", "kontakt"), service(2, "beratung", "kontakt"),
                service(5, "besuch", "hausbesuch"), service(6, "hausbesuch", "hausbesuch"),
                service(7, "zr_termin", "zr_termin", active_to=date(2025, 12, 31)), service(8, "notiz", None)]
    chosen, errors = pick_services(services, ["kontakt", "hausbesuch", "zr_termin", "kontakt"], TODAY)
    assert {event: s.code for event, s in chosen.items()} == {"kontakt": "beratung", "hausbesuch": "hausbesuch"}
    assert errors == ["Für das Ereignis zr_termin gibt es keine aktive Leistung mit diesem Messpunkt im "
                      "Leistungskatalog (Falldokumentation → Leistungskatalog)."]
