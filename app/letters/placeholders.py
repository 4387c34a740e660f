"""The placeholders a letter template may use, and the marker for a needed value that is not there.

``PLACEHOLDERS`` is the complete list (group -> key -> German description, shown to admins); the template
check refuses any other name. ``Missing`` stands for a value a letter needs but the case file does not
hold: it is false in ``{% if %}``, works with ``|default(…)``, and printing it stops the letter with a
German message that names it.
"""
from __future__ import annotations

from collections.abc import Iterable

from jinja2 import Undefined

# group -> key -> German description (shown to admins on the template page). List-valued keys are
# marked in LIST_PLACEHOLDERS: only those may be looped over.
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "recipient": {
        "salutation_word": "„Herrn“ oder „Frau“ (leer bei divers, ohne Angabe und Institutionen)",
        "name": "Titel, Vorname und Name (Institution: ihr Name)",
        "care_of": "c/o-Zeile, wenn die Anschrift „bei Partner“ lautet",
        "street": "Straße und Hausnummer",
        "postcode_city": "PLZ und Ort",
        "country": "Land in Großbuchstaben, nur außerhalb Deutschlands",
        "address": "Anschrift nach DIN 5008, Zeilen mit Zeilenumbruch",
        "address_lines": "Anschrift nach DIN 5008 als Liste von Zeilen",
        "salutation": "Briefanrede mit Komma, z. B. „Sehr geehrter Herr Dr. Wonlos,“",
        "title": "Titel",
        "first_name": "Vorname",
        "surname": "Name",
    },
    "clerk": {
        "name": "Vor- und Nachname der Sachbearbeitung",
        "info_name": "„Auskunft erteilt“, z. B. „Herr Supervisor“",
        "room": "Zimmer",
        "phone": "Telefon",
        "fax": "Fax",
        "email": "E-Mail",
        "sign": "Zeichen der Sachbearbeitung",
        "consultation_hours": "eigene Sprechzeiten",
    },
    "office": {
        "authority": "Behörde, z. B. „Stadt Paderborn“ oder „Bezirksamt Mitte von Berlin“",
        "name": "Dienststelle",
        "address": "Anschrift der Dienststelle in einer Zeile",
        "address_lines": "Anschrift der Dienststelle als Liste von Zeilen",
        "return_address": "Rücksendeangabe über dem Anschriftfeld",
        "phone": "Telefon der Dienststelle",
        "fax": "Fax der Dienststelle",
        "email": "E-Mail der Dienststelle",
        "contact": "Telefon, Fax und E-Mail der Dienststelle in einer Zeile",
        "consultation_hours": "Sprechzeiten der Dienststelle (offene Sprechstunde)",
    },
    "letter": {
        "date": "Datum des Briefes (TT.MM.JJJJ)",
        "your_letter_of": "Ihr Schreiben vom",
        "your_ref": "Ihr Zeichen",
        "my_ref": "Mein Zeichen (Zeichen der Sachbearbeitung, sonst Aktenzeichen)",
    },
    "case": {
        "file_number": "Aktenzeichen der Fallakte",
        "opened_on": "Fallbeginn",
        "court": "Amtsgericht",
        "court_file_number": "Aktenzeichen des Gerichts",
        "hearing_date": "Termin der Gerichtsverhandlung",
        "eviction_date": "Termin der Zwangsräumung",
        "rent_arrears": "Mietschulden",
    },
    "appointment": {
        "date": "Datum des Termins",
        "weekday": "Wochentag des Termins",
        "time": "Uhrzeit des Termins, z. B. „10:30 Uhr“",
        "place": "Ort des Termins",
    },
    "notice": {
        "subject": "Gegenstand des Bescheids",
        "decision": "Entscheidung (Tenor)",
        "reasons": "Begründung",
        "legal_remedy": "Rechtsbehelfsbelehrung der Dienststelle",
    },
    # Gebührenbescheid der Unterbringung (#12 §4): app/services/fee_notice.py füllt die Gruppe.
    "fee": {
        "reason": "Anlass: Einzug, Umzug, Tarifänderung oder Auszug",
        "person": "untergebrachte Person(en)",
        "shelter": "Unterkunft mit Anschrift",
        "place": "Raum und Platz",
        "period": "Zeitraum des Bescheids, z. B. „19.06.2025 bis 31.07.2025“",
        "tariff": "Tarif mit Monatsbeträgen, z. B. „Grundgebühr 108,00 € je Person und Monat …“",
        "satzung": "Satzung und Paragraf",
        "rule": "Berechnungsregel (Teilmonat, Zähltage)",
        "lines": "Berechnung als Liste von Zeilen (Monat, Bestandteil, Tage, Betrag)",
        "total": "Summe des Bescheids",
        "monthly": "Gebühr für einen vollen Monat",
        "due_dates": "Fälligkeiten als Liste von Zeilen",
        "kassenzeichen": "Kassenzeichen (bei jeder Zahlung angeben)",
        "payer": "Zahlungspflichtige/r",
        "bank": "Bankverbindung der Stadtkasse",
    },
    # --- Darlehen (#13): gefüllt, wenn ein Brief aus dem Darlehenskonto entsteht ---
    "loan": {
        "kassenzeichen": "Kassenzeichen (wie die Stadtkasse es druckt)",
        "kind": "„Darlehen“ oder „Beihilfe (Zuschuss)“",
        "legal_basis": "Rechtsgrundlage, z. B. „§ 22 Abs. 8 SGB II“",
        "amount": "Betrag gesamt",
        "purposes": "Beträge nach Zweck in einer Zeile (Mietrückstand, Betriebskosten, Energie, Kosten)",
        "payee": "Zahlungsempfänger (Vermieter/in, Energieversorger)",
        "payee_iban": "IBAN des Zahlungsempfängers",
        "rate": "Monatsrate",
        "first_due": "erste Rate fällig am",
        "instalments": "Zahl der Raten",
        "last_due": "letzte Rate fällig am",
        "deferred_from": "Stundung ab",
        "deferred_to": "Stundung bis",
        "next_due": "nächste Rate nach der Stundung fällig am",
        "review_on": "Wiedervorlage der befristeten Niederschlagung",
        "write_off_kind": "„befristet“ oder „unbefristet“",
        "open_amount": "offener Betrag",
        "waived_amount": "erlassener Betrag",
    },
    # #15: the help plan printed for the client's signature (app/services/care.py, ``print_plan``).
    "plan": {
        "version": "Version des Hilfeplans",
        "valid_from": "Hilfeplan gültig ab",
        "review_on": "Datum der Fortschreibung",
        "social_worker": "Sozialarbeiter/in der Betreuung",
        "goal_lines": "Ziele je Bereich als Liste von Zeilen",
        "measure_lines": "Maßnahmen (wer, was, bis wann) als Liste von Zeilen",
        "agreements": "weitere Vereinbarungen",
    },
}
LIST_PLACEHOLDERS = frozenset({"recipient.address_lines", "office.address_lines", "fee.lines", "fee.due_dates",
                               "plan.goal_lines", "plan.measure_lines"})

# What the clerk may type in when making a letter (the rest comes from the case file):
# placeholder -> input type (date, time, text, textarea).
INPUT_FIELDS: dict[str, str] = {
    "appointment.date": "date", "appointment.time": "time", "appointment.place": "text",
    "case.court": "text", "case.court_file_number": "text", "case.hearing_date": "date",
    "case.eviction_date": "date", "letter.your_letter_of": "date", "letter.your_ref": "text",
    "notice.subject": "text", "notice.decision": "textarea", "notice.reasons": "textarea",
}


def placeholder_names() -> list[str]:
    return [f"{group}.{key}" for group, keys in PLACEHOLDERS.items() for key in keys]


def describe(name: str) -> str:
    group, _, key = name.partition(".")
    return PLACEHOLDERS.get(group, {}).get(key, name)


class MissingValueError(Exception):
    """A letter prints a value the case file does not hold (German label in ``label``)."""

    def __init__(self, label: str):
        super().__init__(label)
        self.label = label


class Missing(Undefined):
    """A needed value that is not there: false in ``{% if %}``, usable with ``|default``; printing it stops."""

    __slots__ = ()

    def __init__(self, label: str):
        super().__init__(name=label)

    @property
    def label(self) -> str:
        return self._undefined_name

    def _fail_with_undefined_error(self, *args, **kwargs):
        raise MissingValueError(self._undefined_name)

    __str__ = __iter__ = __len__ = _fail_with_undefined_error

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other) -> bool:
        return isinstance(other, Missing) and other.label == self.label

    __hash__ = Undefined.__hash__

    def __repr__(self) -> str:
        return f"Missing({self._undefined_name!r})"


def missing_values(context: dict, names: Iterable[str]) -> list[str]:
    """The German labels of the needed values among ``names`` that the context lacks, each once, in list order."""
    order = {name: n for n, name in enumerate(placeholder_names())}
    labels: list[str] = []
    for name in sorted(names, key=lambda name: order.get(name, len(order))):
        group, _, key = name.partition(".")
        value = context.get(group, {}).get(key)
        if isinstance(value, Missing) and value.label not in labels:
            labels.append(value.label)
    return labels
