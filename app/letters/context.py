"""The letter's context: plain data from partner, address, clerk, office and case. Templates hold no logic.

Everything a template may print is built here, already formatted (TT.MM.JJJJ, "10:30 Uhr", "1.234,50 €",
the address block per DIN 5008, the salutation), under the names in ``placeholders.PLACEHOLDERS``.
A needed value the case file lacks is ``Missing`` (see placeholders.py).

No Flask, no session: the inputs are records or anything with the same attributes (or dicts).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from types import SimpleNamespace

from ..domain import dates, money
from .placeholders import PLACEHOLDERS, Missing

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
# Where a letter goes when a partner has several addresses valid today: an explicit postal address
# first (Postanschrift), then the main residence, then "bei Partner (c/o)", then a secondary residence.
ADDRESS_PREFERENCE = ("postal", "main", "care_of", "secondary")
PLACE_KINDS = ("office", "home_visit", "phone", "other")  # catalogue appointment_place
DOMESTIC = {"", "deutschland", "germany", "de", "d", "brd", "bundesrepublik deutschland"}


# --- small formatting helpers -----------------------------------------------------------------------

def _get(obj, name: str, default=None):
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _code(value) -> str | None:
    """The code of a catalogue value (or a plain code string)."""
    if value is None:
        return None
    return value if isinstance(value, str) else _get(value, "code")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _join(*parts, sep: str = " ") -> str:
    return sep.join(p for p in (_text(x) for x in parts) if p)


def format_date(value) -> str:
    return dates.format_date(value) if isinstance(value, date) else _text(value)


def format_time(value) -> str:
    """'10:30 Uhr' from a time, a datetime (shown in Berlin time) or 'HH:MM'."""
    if isinstance(value, datetime):
        value = dates.to_berlin(value).time()
    if isinstance(value, time):
        return f"{dates.format_time(value)} Uhr"
    text = _text(value)
    return f"{text} Uhr" if text and not text.endswith("Uhr") else text


def format_money(value) -> str:
    """"1.234,50 €" (app.domain.money: half up to the cent)."""
    return money.format_money(value)


def _or_missing(value: str, label: str) -> str | Missing:
    return value if value else Missing(label)


# --- recipient ----------------------------------------------------------------------------------------

def is_valid_on(address, today: date) -> bool:
    start, end = _get(address, "valid_from"), _get(address, "valid_to")
    return (start is None or start <= today) and (end is None or end >= today)


def current_address(addresses: Iterable, today: date):
    """The address a letter goes to today, or None.

    1. Only addresses valid today count (valid_from/valid_to may be empty).
    2. Postal address before main residence before c/o before secondary residence.
    3. Of the same kind, the one valid from the latest date wins (then the newest record).
    """
    def rank(address):
        kind = _code(_get(address, "kind"))
        order = ADDRESS_PREFERENCE.index(kind) if kind in ADDRESS_PREFERENCE else len(ADDRESS_PREFERENCE)
        start = _get(address, "valid_from") or date.min
        return order, -start.toordinal(), -(_get(address, "id") or 0)

    valid = [a for a in addresses if is_valid_on(a, today)]
    return min(valid, key=rank) if valid else None


def is_institution(partner) -> bool:
    return _code(_get(partner, "kind")) == "institution"


def display_name(partner) -> str:
    if partner is None:
        return ""
    if is_institution(partner):
        return _text(_get(partner, "surname"))
    return _join(_get(partner, "title"), _get(partner, "first_name"), _get(partner, "surname"))


def salutation_title(title: str | None) -> str:
    """The part of a title that belongs in a salutation: "Prof." and "Dr." (without the faculty).

    "Dr. med." is addressed as "Herr Dr. …", "Dipl.-Ing." or "M. A." not at all (DIN 5008 and common
    usage in German administration)."""
    tokens = _text(title).replace(",", " ").split()
    out = []
    if any(t.lower().startswith("prof") for t in tokens):
        out.append("Prof.")
    if any(t.lower().startswith("dr") for t in tokens):
        out.append("Dr.")
    return " ".join(out)


def salutation(partner) -> str:
    """The letter's salutation, ending with a comma.

    1. Institutions: "Sehr geehrte Damen und Herren,".
    2. Men and women: "Sehr geehrter Herr Dr. Wonlos," / "Sehr geehrte Frau Wonlos,".
    3. Divers or no information: the neutral "Guten Tag Günther Wonlos," with the full name.
    """
    if partner is None or is_institution(partner):
        return "Sehr geehrte Damen und Herren,"
    sex = _code(_get(partner, "sex"))
    title = salutation_title(_get(partner, "title"))
    surname = _text(_get(partner, "surname"))
    if sex == "male":
        return f"Sehr geehrter Herr {_join(title, surname)},"
    if sex == "female":
        return f"Sehr geehrte Frau {_join(title, surname)},"
    return f"Guten Tag {_join(title, _get(partner, 'first_name'), surname)},"


def salutation_word(partner) -> str:
    if partner is None or is_institution(partner):
        return ""
    return {"male": "Herrn", "female": "Frau"}.get(_code(_get(partner, "sex")), "")


def country_line(country: str | None) -> str:
    text = _text(country)
    return "" if text.lower() in DOMESTIC else text.upper()


def recipient_block(partner, address) -> dict:
    """Address block (DIN 5008: at most six lines, no blank lines) and salutation of the recipient."""
    care_of = _get(address, "care_of")
    street = _join(_get(address, "street"), _get(address, "house_number"))
    postcode_city = _join(_get(address, "postcode"), _get(address, "city"))
    lines = [salutation_word(partner), display_name(partner),
             f"c/o {display_name(care_of)}" if care_of is not None else "",
             street, postcode_city, country_line(_get(address, "country"))]
    lines = [line for line in lines if line]
    block = {
        "salutation_word": salutation_word(partner),
        "name": display_name(partner),
        "care_of": f"c/o {display_name(care_of)}" if care_of is not None else "",
        "street": street,
        "postcode_city": postcode_city,
        "country": country_line(_get(address, "country")),
        "address": "\n".join(lines),
        "address_lines": lines,
        "salutation": salutation(partner),
        "title": _text(_get(partner, "title")),
        "first_name": "" if is_institution(partner) else _text(_get(partner, "first_name")),
        "surname": _text(_get(partner, "surname")),
    }
    if address is None or not (street and postcode_city):
        label = "Anschrift des Empfängers (beim Partner ist heute keine vollständige Adresse gültig)"
        for key in ("street", "postcode_city", "address", "address_lines"):
            block[key] = Missing(label)
    return block


# --- sender -------------------------------------------------------------------------------------------

def clerk_block(user, staff) -> dict:
    first, last = _text(_get(user, "first_name")), _text(_get(user, "last_name"))
    last = "" if last == "-" else last  # accounts made without a last name carry "-"
    name = _join(first, last)
    address_as = _text(_get(staff, "address_as"))
    return {
        "name": _or_missing(name, "Name der Sachbearbeitung (Benutzerkonto)"),
        "info_name": _join(address_as, last or first) if address_as else name,
        "room": _text(_get(staff, "room")),
        "phone": _text(_get(staff, "phone")),
        "fax": _text(_get(staff, "fax")),
        "email": _text(_get(staff, "email")) or _account_email(user),
        "sign": _text(_get(staff, "sign")),
        "consultation_hours": _text(_get(staff, "consultation_hours")),
    }


def _account_email(user) -> str:
    email = _text(_get(user, "email"))
    return "" if email.endswith("@fachstelle.invalid") else email  # placeholder of accounts made by script


def office_block(org_unit, office) -> dict:
    address = _text(_get(org_unit, "address"))
    lines = [part.strip() for part in address.split(",") if part.strip()]
    authority = _text(_get(office, "authority"))
    hours = _text(_get(office, "consultation_hours"))
    return {
        "authority": authority,
        "name": _text(_get(org_unit, "name")),
        "address": address,
        "address_lines": lines,
        "return_address": _text(_get(office, "return_address"))
        or " · ".join(p for p in (authority or _text(_get(org_unit, "name")), *lines) if p),
        "phone": _text(_get(org_unit, "phone")),
        "fax": _text(_get(office, "fax")),
        "email": _text(_get(org_unit, "email")),
        "contact": " · ".join(f"{label} {value}" for label, value in (
            ("Telefon", _text(_get(org_unit, "phone"))), ("Fax", _text(_get(office, "fax"))),
            ("E-Mail", _text(_get(org_unit, "email")))) if value),
        "consultation_hours": _or_missing(
            hours, "Sprechzeiten der Dienststelle (Administration › Dienststellen-Briefkopf)"),
    }


# --- the matter ---------------------------------------------------------------------------------------

def _court_name(court) -> str:
    return court if isinstance(court, str) else display_name(court)


def case_block(case, emergency) -> dict:
    def first(name):
        for source in (emergency, case):
            value = _get(source, name)
            if value not in (None, ""):
                return value
        return None

    arrears = first("rent_arrears")
    return {
        "file_number": _text(_get(case, "file_number")),
        "opened_on": format_date(_get(case, "opened_on")),
        "court": _or_missing(_court_name(first("court")), "Amtsgericht"),
        "court_file_number": _or_missing(_text(first("court_file_number")), "Aktenzeichen des Gerichts"),
        "hearing_date": _or_missing(format_date(first("hearing_date")), "Termin der Gerichtsverhandlung"),
        "eviction_date": _or_missing(format_date(first("eviction_date")),
                                     "Termin der Zwangsräumung (Seite „Zwangsräumung“ oder „Wohnungsnotfall“)"),
        "rent_arrears": format_money(arrears) if arrears is not None else Missing("Mietschulden"),
    }


def appointment_block(appointment, office: dict, clerk: dict) -> dict:
    """Date, weekday, time and place; an appointment record (starts_on, starts_at, place, location) or dict."""
    day = _get(appointment, "date") or _get(appointment, "starts_on")
    moment = _get(appointment, "time") or _get(appointment, "starts_at")
    if isinstance(day, datetime):
        moment = moment or day
        day = dates.to_berlin(day).date()
    value = _get(appointment, "place")  # without a place: the office, the clerk's room
    place = _text(value) if isinstance(value, str) and value not in PLACE_KINDS \
        else _place(_code(value) or "office", _text(_get(appointment, "location")), office, clerk)
    return {
        "date": _or_missing(format_date(day), "Termin: Datum"),
        "weekday": WEEKDAYS[day.weekday()] if isinstance(day, date) else Missing("Termin: Datum"),
        "time": _or_missing(format_time(moment), "Termin: Uhrzeit"),
        "place": _or_missing(place, "Termin: Ort"),
    }


def _place(kind: str, location: str, office: dict, clerk: dict) -> str:
    if kind == "office":
        room = location or (f"Zimmer {clerk['room']}" if clerk.get("room") else "")
        return _join(_join(office.get("name"), office.get("address"), sep=", "), room, sep=", ")
    if kind == "home_visit":
        return _join("bei Ihnen zu Hause", location, sep=", ")
    if kind == "phone":
        return _join("telefonisch", location, sep=", ")
    return location


def notice_block(office) -> dict:
    return {
        "subject": Missing("Bescheid: Gegenstand"),
        "decision": Missing("Bescheid: Entscheidung"),
        "reasons": Missing("Bescheid: Begründung"),
        "legal_remedy": _or_missing(_text(_get(office, "legal_remedy")),
                                    "Rechtsbehelfsbelehrung (Administration › Dienststellen-Briefkopf)"),
    }


def fee_block() -> dict:
    """The Gebührenbescheid's values: missing unless a fee notice fills them (app/services/fee_notice.py)."""
    return {key: Missing(f"Gebührenbescheid: {label}") for key, label in (
        ("reason", "Anlass"), ("person", "Person"), ("shelter", "Unterkunft"), ("place", "Platz"),
        ("period", "Zeitraum"), ("tariff", "Tarif"), ("satzung", "Satzung"), ("rule", "Berechnungsregel"),
        ("lines", "Berechnung"), ("total", "Summe"), ("monthly", "Monatsbetrag"), ("due_dates", "Fälligkeiten"),
        ("kassenzeichen", "Kassenzeichen"), ("payer", "Zahlungspflichtige/r"),
        ("bank", "Bankverbindung (fees.yaml, bank)"))}


def _formatted(name: str, value):
    if isinstance(value, (list, tuple)):
        return [_text(item) for item in value]
    if isinstance(value, (date, datetime)) and name.endswith("time"):
        return format_time(value)
    if isinstance(value, (date, datetime)):
        return format_date(value)
    if isinstance(value, time):
        return format_time(value)
    if isinstance(value, Decimal):
        return format_money(value)
    if name == "appointment.time":
        return format_time(value)
    return _text(value)


def plan_block(plan: Mapping | None) -> dict:
    """The help plan of a print (#15): a plain mapping made by ``app/services/care.py``; empty otherwise."""
    plan = plan or {}
    return {"version": _text(plan.get("version")), "valid_from": format_date(plan.get("valid_from")),
            "review_on": format_date(plan.get("review_on")), "social_worker": _text(plan.get("social_worker")),
            "goal_lines": [str(line) for line in plan.get("goal_lines", ())],
            "measure_lines": [str(line) for line in plan.get("measure_lines", ())],
            "agreements": _text(plan.get("agreements"))}


def build_context(partner, *, address=None, addresses: Iterable = (), user=None, staff=None, org_unit=None,
                  office=None, case=None, emergency=None, appointment=None, extra: Mapping | None = None,
                  today: date, plan: Mapping | None = None) -> dict:
    """The complete context of one letter: every name in ``PLACEHOLDERS``, formatted for print.

    1. ``address`` wins; without it the address valid today is picked from ``addresses``.
    2. ``extra`` ({"appointment": {"date": …}, "case": {"court": …}, …}) overrides by name; an empty value
       leaves what the case file says; an unknown name is a programming error (ValueError).
    3. Dates come out as TT.MM.JJJJ, times as "10:30 Uhr", amounts as "1.234,50 €".
    """
    if address is None:
        address = current_address(addresses, today)
    clerk = clerk_block(user, staff)
    office_data = office_block(org_unit, office)
    for key in ("phone", "fax", "email"):  # without a direct line, the office's
        clerk[key] = clerk[key] or office_data[key]
    context = {
        "recipient": recipient_block(partner, address),
        "clerk": clerk,
        "office": office_data,
        "letter": {"date": format_date(today), "your_letter_of": "", "your_ref": "",
                   "my_ref": clerk["sign"] or _text(_get(case, "file_number"))},
        "case": case_block(case, emergency),
        "appointment": appointment_block(appointment, office_data, clerk),
        "notice": notice_block(office),
        "fee": fee_block(),
        "loan": {key: "" for key in PLACEHOLDERS["loan"]},  # #13: filled by the loan account's letters
        "plan": plan_block(plan),
    }
    for group, values in (extra or {}).items():
        if group not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder group {group!r}")
        for key, value in values.items():
            if key not in PLACEHOLDERS[group]:
                raise ValueError(f"unknown placeholder {group}.{key!r}")
            if value in (None, ""):
                continue
            context[group][key] = _formatted(f"{group}.{key}", value)
            if (group, key) == ("appointment", "date") and isinstance(value, date):
                context[group]["weekday"] = WEEKDAYS[value.weekday()]
    return context


def sample_context(today: date = date(2026, 11, 3)) -> dict:
    """A complete context with every value filled: the letter from the brochure (Herr Wonlos)."""
    partner = SimpleNamespace(kind="person", sex="male", title="Dr.", first_name="Günther", surname="Wonlos")
    carer = SimpleNamespace(kind="person", sex="female", title=None, first_name="Maria", surname="Muster")
    address = SimpleNamespace(kind="main", care_of=carer, street="Lagesche Str.", house_number="1",
                              postcode="33102", city="Paderborn", country="Deutschland")
    user = SimpleNamespace(first_name="Max", last_name="Supervisor", email="max.supervisor@paderborn.de")
    staff = SimpleNamespace(address_as="Herr", room="204", phone="05251 88-11151", fax="05251 88-2000",
                            email="max.supervisor@paderborn.de", sign="27/92",
                            consultation_hours="Di und Do 9–12 Uhr")
    unit = SimpleNamespace(name="Zentrale Fachstelle für Wohnungsnotfälle", address="Rathausplatz 1, 33098 Paderborn",
                           phone="05251 88-0", email="fachstelle@paderborn.de")
    office = SimpleNamespace(authority="Stadt Paderborn", return_address=None, fax="05251 88-2000",
                             consultation_hours="offene Sprechstunde Di und Do 9–12 Uhr",
                             legal_remedy="Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe "
                                          "Klage beim Verwaltungsgericht Minden erhoben werden.")
    case = SimpleNamespace(file_number="2026/0815", opened_on=date(2026, 11, 1))
    emergency = SimpleNamespace(eviction_date=date(2026, 12, 15), rent_arrears=Decimal("2345.67"),
                                court="Amtsgericht Paderborn", court_file_number="51 C 123/26",
                                hearing_date=date(2026, 12, 1))
    appointment = SimpleNamespace(starts_on=date(2026, 11, 12), starts_at="10:30",
                                  place=SimpleNamespace(code="office", label="Dienststelle"), location="Zimmer 204")
    plan = {"version": 2, "valid_from": date(2026, 11, 3), "review_on": date(2027, 2, 3),
            "social_worker": "Maria Muster", "goal_lines": ["Wohnen: Die Wohnung bleibt erhalten."],
            "measure_lines": ["Antrag auf Mietschuldübernahme stellen – Klient/in – bis 10.11.2026"],
            "agreements": "Termine alle zwei Wochen"}
    return build_context(partner, address=address, user=user, staff=staff, org_unit=unit, office=office, case=case,
                         emergency=emergency, appointment=appointment, today=today, plan=plan,
                         extra={"letter": {"your_letter_of": date(2026, 10, 28), "your_ref": "M-4711"},
                                "loan": {"kassenzeichen": "52.000001-9", "kind": "Darlehen",
                                         "legal_basis": "§ 22 Abs. 8 SGB II", "amount": Decimal("1234.56"),
                                         "purposes": "Mietrückstand 1.000,00 €, Betriebskosten 234,56 €",
                                         "payee": "Wohnbau GmbH", "payee_iban": "DE89 3704 0044 0532 0130 00",
                                         "rate": Decimal("100.00"), "first_due": date(2027, 1, 1), "instalments": "13",
                                         "last_due": date(2028, 1, 1), "deferred_from": date(2027, 2, 15),
                                         "deferred_to": date(2027, 5, 14), "next_due": date(2027, 6, 1),
                                         "review_on": date(2027, 12, 1), "write_off_kind": "befristet",
                                         "open_amount": Decimal("1134.56"), "waived_amount": Decimal("1134.56")},
                                "notice": {"subject": "Übernahme von Mietschulden nach § 22 Abs. 8 SGB II",
                                           "decision": "Die Mietschulden werden als Darlehen übernommen.",
                                           "reasons": "Die Übernahme ist gerechtfertigt und notwendig, "
                                                      "um Wohnungslosigkeit zu vermeiden."},
                                "fee": SAMPLE_FEE})


# The Gebührenbescheid of the sample (Heiligenhaus Satzung: 12 days of June, then July in full).
SAMPLE_FEE = {
    "reason": "Einzug", "person": "Günther Wonlos", "shelter": "Haus Karlstraße, Karlstr. 96, 33098 Paderborn",
    "place": "Raum 01, Platz 1", "period": "19.06.2026 bis auf Weiteres",
    "tariff": "Grundgebühr 108,00 € und Nebenkosten 76,00 € je Person und Monat",
    "satzung": "Gebührensatzung für Obdachlosenunterkünfte §§ 2–4", "rule": "im Teilmonat 1/30 je Tag; "
    "Einzugs- und Auszugstag zählen voll",
    "lines": ["06/2026 Grundgebühr: 19.06.–30.06.2026, 108,00 € × 12/30 Tage = 43,20 €",
              "06/2026 Nebenkosten: 19.06.–30.06.2026, 76,00 € × 12/30 Tage = 30,40 €"],
    "total": "73,60 €", "monthly": "184,00 €",
    "due_dates": ["73,60 € für 06/2026 am 24.06.2026", "184,00 € monatlich, jeweils am 5. Werktag des Monats"],
    "kassenzeichen": "52.000001-9", "payer": "Günther Wonlos",
    "bank": "Stadtkasse Paderborn, IBAN DE02 1001 0010 0006 8201 01, BIC PBNKDEFF",
}
