"""Official housing statistics (#14): the NRW form (Stichtag 30.06.) and the federal WoBerichtsG records (31.01.).

Pure functions over plain dataclasses: no Flask, no SQLAlchemy, no "today". The service
(``app/services/housing_stats.py``) reads the accommodation data into :class:`StayFact` rows; everything the
statistics decide is decided here, so the rule tables in ``tests/unit/test_housing_stats_rules.py`` pin it.
The rules and the choices made where the sources are silent are written down in ``docs/statistik.md``.

The Stichtag night rule is the one of ``app/domain/occupancy.py``: accommodated on D when move-in ≤ D and
(no move-out or move-out > D) — the night D → D+1.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

# --- scope by legal basis ---------------------------------------------------------------------------------

NRW_BASES = frozenset({"obg"})
BUND_BASES = frozenset({"obg", "sgb12_67", "kaeltehilfe"})  # never asylblg, sonstige

# --- code lists -------------------------------------------------------------------------------------------

ROLES = ("bezugsperson", "partner", "kind", "sonstige")

# sex catalogue codes of the partner entity → federal values
BUND_SEX = {"male": "maennlich", "female": "weiblich", "diverse": "divers", "unknown": "ohne_angabe"}
BUND_SEX_VALUES = ("maennlich", "weiblich", "divers", "ohne_angabe", "unbekannt")

HAUSHALTSTYPEN = ("alleinstehend", "paar_ohne_kinder", "paar_mit_kindern", "alleinerziehend",
                  "sonstiger_mehrpersonenhaushalt", "unbekannt")

DEFAULT_ART_DER_UEBERLASSUNG: dict[str, str] = {
    "notunterkunft": "a", "notschlafstelle": "a",
    "betreutes_wohnen": "b",
    "stationaer": "c",
    "gemeinschaftsunterkunft": "d", "wohnung": "d", "hotel": "d",
}
ANBIETER = ("ueberoertlicher_traeger", "gemeinde", "freier_traeger", "gewerblich", "sonstige")

NRW_STRUKTUR = ("allein_maenner_ohne_kinder", "allein_frauen_ohne_kinder", "allein_maenner_mit_kindern",
                "allein_frauen_mit_kindern", "paare_ohne_kinder", "paare_mit_kindern", "sonstige_mehrpersonen")
NRW_GROESSE = ("1", "2", "3", "4", "5", "6", "mehr_als_6")
# (key, lower bound inclusive, upper bound exclusive or None)
NRW_ALTER = (("unter_18", 0, 18), ("18_21", 18, 21), ("21_25", 21, 25), ("25_30", 25, 30), ("30_40", 30, 40),
             ("40_50", 40, 50), ("50_65", 50, 65), ("65_plus", 65, None))
NRW_ALLEINSTEHEND_GRUPPEN = ("unter_18", "18_21", "21_25")
NRW_NATIONALITAET = ("deutsch_ohne_zuwanderung", "deutsch_mit_zuwanderung", "nicht_deutsch", "keine_angabe")

BUND_COLUMNS = ("stichtag", "ags", "person", "haushalt", "geschlecht", "alter", "staatsangehoerigkeit",
                "haushaltstyp", "haushaltsgroesse", "art_der_ueberlassung", "anbieter", "verband", "beginn")

_AGS = re.compile(r"^(0[1-9]|1[0-6])[0-9]{6}$")
_GERMAN = frozenset({"de", "deu", "d", "deutsch", "deutschland"})


# --- input ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StayFact:
    """One person accommodated (an occupancy) as the statistics see it, with what is true on the Stichtag.

    ``role`` is the person's household role on D (None: not recorded); ``household_id`` the household
    (the case file the occupancy belongs to)."""
    person_id: int
    household_id: int
    move_in: date
    move_out: date | None
    legal_basis: str | None
    role: str | None = None
    sex: str | None = None                   # partner sex catalogue: male, female, diverse, unknown; None
    birth_date: date | None = None
    nationality: str | None = None           # ISO code (DE, SY, …), "staatenlos", "ungeklärt" or None
    migration_background: str | None = None  # "ja", "nein" or None (unknown)
    shelter_type: str | None = None
    provider_type: str | None = None
    association: str | None = None
    ags: str | None = None
    occupancy_id: int | None = None
    shelter_id: int | None = None


def accommodated_on(move_in: date, move_out: date | None, day: date) -> bool:
    """The Stichtag night rule (same as ``app.domain.occupancy.accommodated_on``)."""
    return move_in <= day and (move_out is None or move_out > day)


def completed_years(birth: date, day: date) -> int:
    """Age in completed years on ``day`` (a person born on 29.02. completes a year on 28.02./01.03.: 01.03.)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def pseudonym(key: bytes, kind: str, stichtag: date, ident: int) -> str:
    """Stable within one Stichtag (so versions compare), unlinkable across Stichtage and without the key.

    HMAC-SHA256 over kind, Stichtag and id; 16 hex digits, prefixed P (person) or H (household)."""
    digest = hmac.new(key, f"{kind}|{stichtag.isoformat()}|{ident}".encode(), hashlib.sha256).hexdigest()
    return ("P" if kind == "person" else "H") + digest[:15].upper()


# --- selection --------------------------------------------------------------------------------------------

@dataclass
class Selection:
    facts: list[StayFact]
    warnings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    """A plausibility finding: German text, the check's code and the persons it concerns (for drill-down)."""
    code: str
    text: str
    person_ids: tuple[int, ...] = ()


def select(facts: Iterable[StayFact], day: date, bases: frozenset[str]) -> Selection:
    """Facts accommodated on ``day`` with a legal basis in ``bases``, one per person.

    A person with two occupancies on the same night (a booking error) counts once, with the later move-in
    (the current place); a warning names them."""
    by_person: dict[int, list[StayFact]] = defaultdict(list)
    for f in facts:
        if f.legal_basis in bases and accommodated_on(f.move_in, f.move_out, day):
            by_person[f.person_id].append(f)
    chosen, doubles = [], []
    for pid, fs in by_person.items():
        fs.sort(key=lambda f: (f.move_in, f.occupancy_id or 0))
        chosen.append(fs[-1])
        if len(fs) > 1:
            doubles.append(pid)
    chosen.sort(key=lambda f: (f.household_id, f.person_id))
    warnings = []
    if doubles:
        warnings.append(Finding("doppelt_belegt", f"{len(doubles)} Person(en) in der Stichtagsnacht mehrfach "
                                 "untergebracht; gezählt wird je Person die Belegung mit dem spätesten Einzug.",
                                 tuple(sorted(doubles))))
    return Selection(chosen, warnings)


def households(facts: Iterable[StayFact]) -> dict[int, list[StayFact]]:
    """Persons in scope grouped by household (the household's size is the number of its persons in scope)."""
    out: dict[int, list[StayFact]] = defaultdict(list)
    for f in facts:
        out[f.household_id].append(f)
    return out


# --- household structure from roles -----------------------------------------------------------------------

def household_kind(roles: Iterable[str | None]) -> str:
    """Structure of a household from its members' roles on D.

    Returns ``allein`` (one person), ``alleinerziehend`` (one bezugsperson + ≥ 1 kind), ``paar_ohne_kinder`` /
    ``paar_mit_kindern`` (one bezugsperson + one partner + kinder), ``unbekannt`` (several persons, one without
    a role) or ``sonstige`` (any other constellation: a ``sonstige`` member, no or two Bezugspersonen, two
    partners)."""
    roles = list(roles)
    if len(roles) == 1:
        return "allein"
    if any(r is None for r in roles):
        return "unbekannt"
    c = Counter(roles)
    if c["sonstige"] or c["bezugsperson"] != 1 or c["partner"] > 1 or set(c) - set(ROLES):
        return "sonstige"
    if c["partner"] == 1:
        return "paar_mit_kindern" if c["kind"] else "paar_ohne_kinder"
    return "alleinerziehend"  # one bezugsperson, ≥ 1 kind (size ≥ 2 and no other role left)


def is_female(sex: str | None) -> bool:
    return sex == "female"


def nrw_struktur(members: list[StayFact]) -> str:
    """NRW form row of a household. The single/alleinerziehend rows split by sex: "Frauen" takes weiblich,
    "Männer" every other entry (männlich, divers, ohne Angabe, empty) — the form has only these two columns,
    and the rest is named in a warning. A household of unknown structure (several persons, a role missing)
    is a sonstiger Mehrpersonenhaushalt (the form has no "unbekannt"); a warning names it."""
    kind = household_kind(f.role for f in members)
    if kind == "allein":
        return "allein_frauen_ohne_kinder" if is_female(members[0].sex) else "allein_maenner_ohne_kinder"
    if kind == "alleinerziehend":
        head = next(f for f in members if f.role == "bezugsperson")
        return "allein_frauen_mit_kindern" if is_female(head.sex) else "allein_maenner_mit_kindern"
    if kind == "paar_ohne_kinder":
        return "paare_ohne_kinder"
    if kind == "paar_mit_kindern":
        return "paare_mit_kindern"
    return "sonstige_mehrpersonen"


def bund_haushaltstyp(members: list[StayFact]) -> str:
    kind = household_kind(f.role for f in members)
    return {"allein": "alleinstehend", "alleinerziehend": "alleinerziehend", "paar_ohne_kinder": "paar_ohne_kinder",
            "paar_mit_kindern": "paar_mit_kindern", "unbekannt": "unbekannt"}.get(kind, "sonstiger_mehrpersonenhaushalt")


def size_key(size: int) -> str:
    return str(size) if size <= 6 else "mehr_als_6"


def age_group(age: int) -> str:
    for key, low, high in NRW_ALTER:
        if age >= low and (high is None or age < high):
            return key
    raise ValueError(age)  # negative age: caught before (birth after the Stichtag)


def is_german(nationality: str | None) -> bool:
    return bool(nationality) and nationality.strip().lower() in _GERMAN


def nrw_nationalitaet(nationality: str | None, migration_background: str | None) -> str:
    """German + Zuwanderungsgeschichte nein → ohne; ja → mit; German with it unknown, or nationality empty →
    keine Angabe; any other value (also staatenlos, ungeklärt) → nicht-deutsch."""
    if not nationality or not nationality.strip():
        return "keine_angabe"
    if is_german(nationality):
        return {"nein": "deutsch_ohne_zuwanderung", "ja": "deutsch_mit_zuwanderung"}.get(
            migration_background or "", "keine_angabe")
    return "nicht_deutsch"


# --- NRW form ---------------------------------------------------------------------------------------------

def _pair() -> dict[str, int]:
    return {"insgesamt": 0, "weiblich": 0}


@dataclass
class NrwResult:
    report: dict
    cells: dict[str, list[int]]   # cell path ("personen.alter.18_21.weiblich") → person ids, for drill-down
    warnings: list[Finding]


def nrw_report(facts: Iterable[StayFact], stichtag: date) -> NrwResult:
    """The kommunal NRW form for Stichtag D, exactly in the keys of the issue, plus the persons behind each cell."""
    sel = select(facts, stichtag, NRW_BASES)
    warnings = list(sel.warnings)
    cells: dict[str, list[int]] = defaultdict(list)

    struktur = dict.fromkeys(NRW_STRUKTUR, 0)
    groesse = dict.fromkeys(NRW_GROESSE, 0)
    gesamt = _pair()
    alter = {key: _pair() for key, _, _ in NRW_ALTER}
    for key in NRW_ALLEINSTEHEND_GRUPPEN:
        alter[key].update(alleinstehend=0, alleinstehend_weiblich=0)
    nat = {key: _pair() for key in NRW_NATIONALITAET}
    no_birth, other_sex, unknown_structure, unborn, very_old = [], [], [], [], []

    hh = households(sel.facts)
    for members in hh.values():
        ids = [f.person_id for f in members]
        s = nrw_struktur(members)
        struktur[s] += 1
        cells[f"haushalte.struktur.{s}"] += ids
        g = size_key(len(members))
        groesse[g] += 1
        cells[f"haushalte.groesse.{g}"] += ids
        cells["haushalte.gesamt"] += ids
        if household_kind(f.role for f in members) == "unbekannt":
            unknown_structure += [f.person_id for f in members if f.role is None]
        alone = len(members) == 1
        for f in members:
            female = is_female(f.sex)
            gesamt["insgesamt"] += 1
            cells["personen.gesamt.insgesamt"].append(f.person_id)
            if female:
                gesamt["weiblich"] += 1
                cells["personen.gesamt.weiblich"].append(f.person_id)
            if f.sex not in ("male", "female"):
                other_sex.append(f.person_id)
            if f.birth_date is None:
                no_birth.append(f.person_id)
                continue
            age = completed_years(f.birth_date, stichtag)
            if age < 0:
                unborn.append(f.person_id)
                continue
            if age > 110:
                very_old.append(f.person_id)
            grp = age_group(age)
            _count(alter[grp], cells, f"personen.alter.{grp}", f.person_id, female)
            if alone and grp in NRW_ALLEINSTEHEND_GRUPPEN:
                alter[grp]["alleinstehend"] += 1
                cells[f"personen.alter.{grp}.alleinstehend"].append(f.person_id)
                if female:
                    alter[grp]["alleinstehend_weiblich"] += 1
                    cells[f"personen.alter.{grp}.alleinstehend_weiblich"].append(f.person_id)
            if age >= 18:
                n = nrw_nationalitaet(f.nationality, f.migration_background)
                _count(nat[n], cells, f"personen.staatsangehoerigkeit_erwachsene.{n}", f.person_id, female)

    if no_birth:
        warnings.append(Finding("ohne_geburtsdatum", f"{len(no_birth)} Person(en) ohne Geburtsdatum: in den Summen "
                                 "gezählt, in keiner Altersgruppe und nicht im Block der Erwachsenen "
                                 "(Staatsangehörigkeit).", tuple(no_birth)))
    if unborn:
        warnings.append(Finding("geburt_nach_stichtag", f"{len(unborn)} Person(en) mit Geburtsdatum nach dem "
                                 "Stichtag: in den Summen gezählt, in keiner Altersgruppe.", tuple(unborn)))
    if very_old:
        warnings.append(Finding("alter_unplausibel", f"{len(very_old)} Person(en) älter als 110 Jahre: "
                                 "Geburtsdatum prüfen.", tuple(very_old)))
    if other_sex:
        warnings.append(Finding("geschlecht_weder_m_noch_w", f"{len(other_sex)} Person(en) weder männlich noch "
                                 "weiblich (divers, ohne Angabe oder leer): gezählt in „insgesamt“, nicht in "
                                 "„weiblich“; als allein stehende Person oder Bezugsperson in der Zeile „Männer“.",
                                 tuple(other_sex)))
    if unknown_structure:
        warnings.append(Finding("rolle_fehlt", f"{len(unknown_structure)} Person(en) in einem Mehrpersonenhaushalt "
                                 "ohne Rolle im Haushalt am Stichtag: Haushalt als sonstiger Mehrpersonenhaushalt "
                                 "gezählt.", tuple(unknown_structure)))

    report = {
        "stichtag": stichtag.isoformat(),
        "haushalte": {"gesamt": len(hh), "struktur": struktur, "groesse": groesse},
        "personen": {"gesamt": gesamt, "alter": alter, "staatsangehoerigkeit_erwachsene": nat},
    }
    warnings += nrw_consistency(report)
    report["warnungen"] = [w.text for w in warnings]
    return NrwResult(report, dict(cells), warnings)


def _count(cell: dict, cells: dict, path: str, pid: int, female: bool) -> None:
    cell["insgesamt"] += 1
    cells[f"{path}.insgesamt"].append(pid)
    if female:
        cell["weiblich"] += 1
        cells[f"{path}.weiblich"].append(pid)


def nrw_consistency(report: dict) -> list[Finding]:
    """The form's sum rules (a failure means a bug or a hand-edited snapshot; reported, never corrected)."""
    out = []
    h, p = report["haushalte"], report["personen"]
    if sum(h["struktur"].values()) != h["gesamt"]:
        out.append(Finding("summe_struktur", "Summe der Haushaltsstruktur ≠ Haushalte gesamt."))
    if sum(h["groesse"].values()) != h["gesamt"]:
        out.append(Finding("summe_groesse", "Summe der Haushaltsgrößen ≠ Haushalte gesamt."))
    if sum(int(k) * v for k, v in h["groesse"].items() if k != "mehr_als_6") > p["gesamt"]["insgesamt"]:
        out.append(Finding("summe_personen", "Personen gesamt < Personen aus den Haushaltsgrößen."))
    if sum(a["insgesamt"] for a in p["alter"].values()) > p["gesamt"]["insgesamt"]:
        out.append(Finding("summe_alter", "Summe der Altersgruppen > Personen gesamt."))
    return out


# --- federal records --------------------------------------------------------------------------------------

@dataclass
class BundResult:
    rows: list[dict[str, str]]        # one per person, keys = BUND_COLUMNS, values as written to the file
    person_ids: list[int]             # the person behind each row (never exported; for drill-down)
    problems: list[Finding]          # plausibility report (German); nothing is dropped


def bund_records(facts: Iterable[StayFact], stichtag: date, key: bytes,
                 art_map: Mapping[str, str] | None = None) -> BundResult:
    """One record per person accommodated on the Stichtag with legal basis obg, sgb12_67 or kaeltehilfe."""
    art_map = DEFAULT_ART_DER_UEBERLASSUNG if art_map is None else art_map
    sel = select(facts, stichtag, BUND_BASES)
    rows, ids = [], []
    day = stichtag.isoformat()
    for hid, members in households(sel.facts).items():
        typ = bund_haushaltstyp(members)
        hh_pseudo = pseudonym(key, "household", stichtag, hid)
        for f in members:
            age = completed_years(f.birth_date, stichtag) if f.birth_date else None
            rows.append({
                "stichtag": day,
                "ags": f.ags or "",
                "person": pseudonym(key, "person", stichtag, f.person_id),
                "haushalt": hh_pseudo,
                "geschlecht": BUND_SEX.get(f.sex or "", "unbekannt"),
                "alter": "" if age is None or age < 0 else str(age),
                "staatsangehoerigkeit": bund_nationality(f.nationality),
                "haushaltstyp": typ,
                "haushaltsgroesse": str(len(members)),
                "art_der_ueberlassung": art_map.get(f.shelter_type or "", ""),
                "anbieter": f.provider_type if f.provider_type in ANBIETER else "",
                "verband": f.association or "",
                "beginn": f.move_in.isoformat(),
            })
            ids.append(f.person_id)
    problems = sel.warnings + bund_plausibility(rows, ids, stichtag)
    free_text = tuple(pid for r, pid, f in zip(rows, ids, _facts_in_order(sel.facts), strict=True)
                      if not r["staatsangehoerigkeit"] and f.nationality and f.nationality.strip())
    if free_text:
        problems.append(Finding("staatsangehoerigkeit_freitext", "Staatsangehörigkeit nur als Freitext erfasst, "
                                "ohne Schlüssel (z. B. „SY“); Feld bleibt leer – an der Person pflegen: "
                                f"{len(free_text)} Datensatz/Datensätze.", free_text))
    return BundResult(rows, ids, problems)


def _facts_in_order(facts: list[StayFact]) -> list[StayFact]:
    """The facts in the order bund_records writes them (household by household)."""
    return [f for members in households(facts).values() for f in members]


def bund_nationality(value: str | None) -> str:
    """ISO code in capitals (DE, SY), ``staatenlos``, ``ungeklaert``; empty when not recorded or only as free
    text that is no code (e.g. "syrisch": the plausibility report names those persons)."""
    if not value or not value.strip():
        return ""
    v = value.strip()
    if is_german(v):
        return "DE"
    low = v.lower()
    if low == "staatenlos":
        return "staatenlos"
    if low in ("ungeklärt", "ungeklaert"):
        return "ungeklaert"
    return v.upper() if re.fullmatch(r"[A-Za-z]{2}", v) else ""


_EXPECTED_SIZE = {"alleinstehend": lambda n: n == 1, "paar_ohne_kinder": lambda n: n == 2,
                  "paar_mit_kindern": lambda n: n >= 3, "alleinerziehend": lambda n: n >= 2,
                  "sonstiger_mehrpersonenhaushalt": lambda n: n >= 2, "unbekannt": lambda n: n >= 2}


def bund_plausibility(rows: list[dict[str, str]], ids: list[int], stichtag: date) -> list[Finding]:
    """The checks Destatis runs on delivery, in German, each with the persons concerned (nothing is dropped)."""
    found: dict[str, list[int]] = defaultdict(list)
    per_hh = Counter(r["haushalt"] for r in rows)
    day = stichtag.isoformat()
    for r, pid in zip(rows, ids, strict=True):
        n = int(r["haushaltsgroesse"])
        if n != per_hh[r["haushalt"]]:
            found["groesse"].append(pid)
        if not _EXPECTED_SIZE[r["haushaltstyp"]](n):
            found["typ_groesse"].append(pid)
        if not _AGS.match(r["ags"]):
            found["ags"].append(pid)
        if r["anbieter"] == "freier_traeger" and not r["verband"]:
            found["verband_fehlt"].append(pid)
        if r["anbieter"] != "freier_traeger" and r["verband"]:
            found["verband_zuviel"].append(pid)
        if not r["anbieter"]:
            found["anbieter"].append(pid)
        if not r["art_der_ueberlassung"]:
            found["art"].append(pid)
        if r["beginn"] > day:   # ISO dates compare as text
            found["beginn"].append(pid)
        if r["alter"] == "":
            found["alter_fehlt"].append(pid)
        elif int(r["alter"]) > 110:
            found["alter_hoch"].append(pid)
        if r["geschlecht"] == "unbekannt":
            found["geschlecht"].append(pid)
        if r["haushaltstyp"] == "unbekannt":
            found["typ_unbekannt"].append(pid)
    texts = {
        "groesse": "Haushaltsgröße stimmt nicht mit der Zahl der Datensätze des Haushalts überein",
        "typ_groesse": "Haushaltstyp passt nicht zur Haushaltsgröße",
        "ags": "Gemeindeschlüssel (AGS) fehlt oder ist ungültig (8 Ziffern, Land 01–16) – an der Unterkunft pflegen",
        "verband_fehlt": "Anbieter „freier Träger“ ohne Verband – an der Unterkunft pflegen",
        "verband_zuviel": "Verband angegeben, obwohl der Anbieter kein freier Träger ist",
        "anbieter": "Anbieter der Unterkunft fehlt",
        "art": "Art der Überlassung nicht ableitbar (Art der Unterkunft fehlt oder ist nicht zugeordnet)",
        "beginn": "Beginn der Unterbringung liegt nach dem Stichtag",
        "alter_fehlt": "Alter unbekannt (kein Geburtsdatum); Feld bleibt leer",
        "alter_hoch": "Alter über 110 Jahre – Geburtsdatum prüfen",
        "geschlecht": "Geschlecht nicht erfasst; gemeldet als „unbekannt“",
        "typ_unbekannt": "Haushaltstyp unbekannt: Rolle im Haushalt fehlt bei mindestens einem Mitglied",
    }
    return [Finding(code, f"{texts[code]}: {len(pids)} Datensatz/Datensätze.", tuple(pids))
            for code, pids in found.items()]


def bund_deadline(stichtag: date, calendar) -> date:
    """Delivery deadline: the 30th working day after the Stichtag (WoBerichtsG § 7 (1))."""
    return calendar.add_working_days(stichtag, 30)


def due_delivery(today: date, calendar, delivered: Iterable[date]) -> tuple[date, date] | None:
    """The federal delivery the worklist reminds of: (Stichtag, deadline) of the latest 31.01. before today,
    from 01.02. (the first day a delivery is possible) until a version of it is marked delivered; it stays,
    overdue, after the deadline. None before the first Stichtag (2022) and once delivered."""
    stichtag = date(today.year, 1, 31)
    if today <= stichtag:
        stichtag = date(today.year - 1, 1, 31)
    if stichtag.year < 2022 or stichtag in set(delivered):
        return None
    return stichtag, bund_deadline(stichtag, calendar)
