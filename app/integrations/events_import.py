"""Import events that the districts recorded in spreadsheets before the system existed (Altbestand).

Columns: ``fall_id;bezirk;ereignis;datum;zu_zweit`` (any order, ``;`` or ``,``, UTF-8 with or without BOM;
``zu_zweit`` may be left out). Each row becomes a documentation entry at the measurement point named by
``ereignis``, on the case the district knows as ``fall_id`` (kept in ``case.external_ref``). Decisions
(docs/import-ereignisse.md):

1. all-or-nothing: every row is checked first and every bad row reported by its line number; one bad row
   and nothing is written;
2. idempotent: an entry of the case at the same measurement point on the same date counts as already
   booked (whoever booked it), so the same file twice books nothing twice;
3. a case the district's number does not find is created, with a placeholder client marked as imported;
4. entries go through the normal session, so the rules of app/services/documentation.py run; follow-ups
   already due before the import day are not created (an import of 2023 must not flood the worklist).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import clock
from ..core_models import CatalogueValue, OrgUnit
from ..metamodel.build_models import built_registry
from ..metamodel.kinds import kind_of
from ..services.documentation import FOLLOW_UPS_NOT_BEFORE
from ..services.history import acting_as
from .csv_input import CsvInputError, decode, open_rows

HEADER = ("fall_id", "bezirk", "ereignis", "datum", "zu_zweit")
REQUIRED = HEADER[:4]
# The fixed measurement points of the Berlin agreement (catalogue measurement_point).
EVENTS = ("klage_eingang", "klage_anschreiben", "kontakt", "hausbesuch", "zr_mitteilung_eingang",
          "zr_anschreiben", "zr_termin", "zr_anwesenheit")
PAIR_EVENTS = ("hausbesuch", "zr_anwesenheit")  # "zu zweit" is recorded for visits and attendance only
FUTURE_EVENTS = ("zr_termin",)  # an eviction date is announced in advance; everything else has happened
EARLIEST = date(1990, 1, 1)
PLACEHOLDER_SURNAME = "Unbekannt (Import)"
ACTOR = "import"
MAX_SHOWN = 20


class EventImportError(Exception):
    """A German message naming the file and the lines; nothing was written."""


@dataclass(frozen=True)
class EventRow:
    line: int
    ref: str
    unit_id: int
    event: str
    on: date
    in_pairs: bool


@dataclass
class EventImportResult:
    file_name: str
    rows: int = 0
    cases_created: int = 0
    cases_found: int = 0
    entries_created: int = 0
    entries_unchanged: int = 0
    partners_created: int = 0
    follow_ups_created: int = 0
    services: dict[str, str] = field(default_factory=dict)  # event -> "name (code)"
    notes: list[str] = field(default_factory=list)

    def report(self, dry_run: bool = False) -> str:
        lines = [f"Probelauf (--dry-run) für {self.file_name}: so würde importiert, gespeichert wurde nichts."
                 if dry_run else f"Ereignisse aus {self.file_name} importiert."]
        lines += [f"Zeilen: {self.rows}.",
                  f"Fallakten: {self.cases_created} neu angelegt, {self.cases_found} vorhanden.",
                  f"Doku-Einträge: {self.entries_created} neu, {self.entries_unchanged} unverändert.",
                  f"Platzhalter-Partner: {self.partners_created} angelegt.",
                  f"Wiedervorlagen: {self.follow_ups_created} angelegt (bereits fällige nicht)."]
        if self.services:
            lines.append("Leistungen je Ereignis:")
            lines += [f"  {event} → {service}" for event, service in sorted(self.services.items())]
        lines += [f"Hinweis: {note}" for note in self.notes]
        return "\n".join(lines)


def _norm(text: str) -> str:
    text = text.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


class UnitMatcher:
    """``bezirk`` by code or name, case-insensitive, umlauts and dashes aside; or by the last word(s) of the
    name, so "Mitte" finds "Soziale Wohnhilfe Mitte" (code ``mitte``) and "Fachstelle Nord" is also "Nord"."""

    def __init__(self, units: Iterable):
        self.units = {u.id: u for u in units}
        self.exact: dict[str, set[int]] = {}
        self.tail: dict[str, set[int]] = {}
        self.shown: dict[str, str] = {}  # key -> how a suggestion reads
        for unit in self.units.values():
            for key, text in ((_norm(unit.code), unit.code), (_norm(unit.name), unit.name)):
                self.exact.setdefault(key, set()).add(unit.id)
                self.shown.setdefault(key, text)
            words = unit.name.split()
            for i in range(1, len(words)):
                text = " ".join(words[i:])
                self.tail.setdefault(_norm(text), set()).add(unit.id)
                self.shown[_norm(text)] = text  # "Mitte" reads better than the code "mitte"

    def match(self, value: str) -> tuple[int | None, str | None]:
        """The unit id, or None and the German problem."""
        key = _norm(value)
        ids = self.exact.get(key) or self.tail.get(key) or set()
        if len(ids) == 1:
            return next(iter(ids)), None
        if ids:
            names = ", ".join(sorted(self.units[i].code for i in ids))
            return None, f"Bezirk „{value}“ ist mehrdeutig ({names}); bitte das Kürzel angeben"
        close = difflib.get_close_matches(key, list(self.shown), n=1, cutoff=0.75)
        hint = (f"meinten Sie „{self.shown[close[0]]}“?" if close
                else f"bekannt: {', '.join(sorted(u.code for u in self.units.values()))}")
        return None, f"Bezirk „{value}“ unbekannt ({hint})"


def _event(value: str) -> tuple[str | None, str | None]:
    key = _norm(value)
    if key in EVENTS:
        return key, None
    if not key:
        return None, "ereignis fehlt"
    close = difflib.get_close_matches(key, EVENTS, n=1, cutoff=0.7)
    hint = f"meinten Sie „{close[0]}“?" if close else f"erlaubt: {', '.join(EVENTS)}"
    return None, f"Ereignis „{value}“ unbekannt ({hint})"


def _date(value: str, event: str | None, today: date) -> tuple[date | None, str | None]:
    if not value:
        return None, "datum fehlt"
    if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", value):
        day, month, year = (int(g) for g in m.groups())
    elif m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value):
        year, month, day = (int(g) for g in m.groups())
    else:
        return None, f"Datum „{value}“ ist weder TT.MM.JJJJ noch JJJJ-MM-TT"
    try:
        on = date(year, month, day)
    except ValueError:
        return None, f"Datum „{value}“ gibt es nicht"
    if on < EARLIEST:
        return None, f"Datum „{value}“ liegt vor dem {EARLIEST:%d.%m.%Y} (Tippfehler im Jahr?)"
    if on > today and event not in FUTURE_EVENTS:
        return None, f"Datum „{value}“ liegt in der Zukunft"
    return on, None


def _pairs(value: str, event: str | None) -> tuple[bool, str | None]:
    key = value.strip().lower()
    if key in ("", "nein"):
        return False, None
    if key != "ja":
        return False, f"zu_zweit „{value}“ ist weder ja noch nein (oder leer)"
    if event is not None and event not in PAIR_EVENTS:
        return False, f"zu_zweit „ja“ gilt nur für {' und '.join(PAIR_EVENTS)}, nicht für {event}"
    return True, None


def _decode(raw: bytes, file_name: str) -> str:
    try:
        return decode(raw, file_name)
    except CsvInputError as exc:
        raise EventImportError(f"{exc} Nichts importiert.") from None


def _columns(header: list[str], file_name: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(_norm(h) for h in header):
        if name in HEADER and name not in found:
            found[name] = i
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise EventImportError(
            f"{file_name}, Zeile 1: Kopfzeile unvollständig, es fehlt {', '.join(missing)}. "
            f"Erwartet: {';'.join(HEADER)} – gefunden: {';'.join(h.strip() for h in header) or '(leer)'}. "
            "Nichts importiert.")
    return found


def _fail(file_name: str, errors: list[str]) -> EventImportError:
    shown = errors[:MAX_SHOWN] + ([f"… und {len(errors) - MAX_SHOWN} weitere Fehler."]
                                  if len(errors) > MAX_SHOWN else [])
    return EventImportError(f"{file_name}: Nichts importiert, die Datei enthält Fehler:\n" + "\n".join(shown))


def read_events(raw: bytes, file_name: str, units: Iterable, today: date, ref_length: int = 40) -> list[EventRow]:
    """Parse and check every row; raises EventImportError listing every bad row by its line number."""
    text = _decode(raw, file_name)
    if not text.strip():
        raise EventImportError(f"{file_name}: Die Datei ist leer. Nichts importiert.")
    header, lines = open_rows(text)
    cols = _columns(header, file_name)
    matcher = UnitMatcher(units)
    rows, errors = [], []
    for line, row, unreadable in lines:
        if unreadable:
            errors.append(unreadable)
            break
        values = {key: (row[i].strip() if i < len(row) else "") for key, i in cols.items()}
        problems = []
        ref = values["fall_id"]
        if not ref:
            problems.append("fall_id fehlt")
        elif len(ref) > ref_length:
            problems.append(f"fall_id ist länger als {ref_length} Zeichen")
        unit_id, problem = matcher.match(values["bezirk"]) if values["bezirk"] else (None, "bezirk fehlt")
        problems += [problem] if problem else []
        event, problem = _event(values["ereignis"])
        problems += [problem] if problem else []
        on, problem = _date(values["datum"], event, today)
        problems += [problem] if problem else []
        in_pairs, problem = _pairs(values.get("zu_zweit", ""), event)
        problems += [problem] if problem else []
        if problems:
            errors.append(f"Zeile {line}: " + "; ".join(problems) + ".")
        else:
            rows.append(EventRow(line, ref, unit_id, event, on, in_pairs))
    if errors:
        raise _fail(file_name, errors)
    if not rows:
        raise EventImportError(f"{file_name}: Die Datei enthält keine Ereignisse, nur die Kopfzeile.")
    return rows


def pick_services(services: Iterable, events: Iterable[str], today: date) -> tuple[dict, list[str]]:
    """One service per event, deterministically: among the active services at that measurement point, the one
    whose code is the event's name, else the oldest (lowest id). No active service is an error for the file."""
    chosen, errors = {}, []
    candidates = sorted(services, key=lambda s: s.id)
    for event in sorted(set(events)):
        active = [s for s in candidates if s.measurement_point is not None and s.measurement_point.code == event
                  and (s.active_from is None or s.active_from <= today) and (s.active_to is None or s.active_to >= today)]
        if not active:
            errors.append(f"Für das Ereignis {event} gibt es keine aktive Leistung mit diesem Messpunkt im "
                          "Leistungskatalog (Falldokumentation → Leistungskatalog).")
            continue
        chosen[event] = next((s for s in active if s.code == event), active[0])
    return chosen, errors


def _defaults(session: Session, entity, given: set[str], today: date) -> tuple[dict, list[str]]:
    """Values for required fields the import does not fill: the configured default, else an error."""
    values, errors = {}, []
    for f in entity.fields:
        if not f.required or f.name in given:
            continue
        if f.default is None:
            errors.append(f"Pflichtfeld „{f.label}“ ({entity.name}.{f.name}) hat keinen Standardwert; "
                          "der Import kann neue Datensätze so nicht anlegen.")
        elif (value := kind_of(f).import_default(f, session, today)) is not None:
            values[f.name] = value
    return values, errors


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _find_cases(session: Session, Case, opened: dict, first_line: dict) -> tuple[dict, list[str]]:
    """The cases the file names, by (org unit, the district's number); one number twice in a unit is an error."""
    cases: dict[tuple[int, str], object] = {}
    errors = []
    for unit_id in {key[0] for key in opened}:
        refs = [key[1] for key in opened if key[0] == unit_id]
        for chunk in _chunks(refs):
            for case in session.scalars(select(Case).where(Case.org_unit_id == unit_id, Case.external_ref.in_(chunk))
                                        .order_by(Case.id)):
                key = (unit_id, case.external_ref)
                if key in cases:
                    errors.append(f"Zeile {first_line[key]}: Fall „{key[1]}“ gibt es in "
                                  f"{session.get(OrgUnit, unit_id).name} mehrfach (Fallakten Nr. {cases[key].id}, "
                                  f"{case.id}); bitte in der Anwendung bereinigen.")
                cases.setdefault(key, case)
    return cases, errors


def _booked(session: Session, Entry, cases: Iterable) -> dict[tuple[object, int, date], bool]:
    """What the cases already have, by (case, measurement point, date) -- the idempotency key -- with "zu zweit"."""
    booked: dict[tuple[object, int, date], bool] = {}
    by_id = {case.id: case for case in cases}
    for chunk in _chunks(list(by_id)):
        for case_id, point_id, on, in_pairs in session.execute(
                select(Entry.case_id, Entry.measurement_point_id, Entry.entry_date, Entry.in_pairs)
                .where(Entry.case_id.in_(chunk)).order_by(Entry.id)):
            booked.setdefault((by_id[case_id], point_id, on), bool(in_pairs))
    return booked


def import_events(session: Session, path: Path, today: date | None = None) -> EventImportResult:
    """Book the events of ``path``; flushes, the caller commits (or rolls back: on error, and for a dry run)."""
    today = today or clock.today()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EventImportError(f"{path.name}: Datei nicht lesbar ({exc.strerror}).") from None
    registry = built_registry()
    Case, Partner, Entry, Service, Task = (registry.model(n) for n in ("case", "partner", "doc_entry", "service",
                                                                       "task"))
    case_spec = registry.entity("case")
    ref_length = case_spec.field("external_ref").length or 40
    units = list(session.scalars(select(OrgUnit)))
    rows = read_events(raw, path.name, units, today, ref_length)
    result = EventImportResult(file_name=path.name, rows=len(rows))
    services, errors = pick_services(session.scalars(select(Service)), (r.event for r in rows), today)

    first_line: dict[tuple[int, str], int] = {}
    opened: dict[tuple[int, str], date] = {}
    for row in rows:
        key = (row.unit_id, row.ref)
        first_line.setdefault(key, row.line)
        opened[key] = min(opened.get(key, row.on), row.on)
    cases, more = _find_cases(session, Case, opened, first_line)
    errors += more
    case_defaults, partner_defaults = {}, {}
    if len(cases) < len(opened):
        case_defaults, problems = _defaults(session, case_spec, {"client", "opened_on", "external_ref",
                                                                 "file_number", "info"}, today)
        partner_defaults, more = _defaults(session, registry.entity("partner"),
                                           {"kind", "surname", "first_name", "info"}, today)
        errors += problems + more
    if errors:
        raise _fail(path.name, errors)

    result.services = {event: f"{s.name} ({s.code})" for event, s in services.items()}
    result.cases_found = len(cases)
    booked = _booked(session, Entry, cases.values())

    stamp = f"{path.name}, {today:%d.%m.%Y}"
    person = session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "partner_kind",
                                                          CatalogueValue.code == "person")).first()
    file_number_length = (case_spec.field("file_number").length or 30)
    new_entries = []
    for row in rows:
        key = (row.unit_id, row.ref)
        case = cases.get(key)
        if case is None:
            client = Partner(**partner_defaults, kind=person, surname=PLACEHOLDER_SURNAME, first_name=row.ref,
                             info=f"Platzhalter aus Import {stamp}: Klient/in unbekannt. Bitte die richtige "
                                  "Person eintragen oder mit ihr zusammenführen.")
            client.org_unit_id = row.unit_id
            case = Case(**case_defaults, client=client, opened_on=opened[key], external_ref=row.ref,
                        file_number=row.ref if len(row.ref) <= file_number_length else None,
                        info=f"Angelegt durch Import {stamp}.")
            case.org_unit_id = row.unit_id
            session.add_all([client, case])
            cases[key] = case
            result.cases_created += 1
            result.partners_created += 1
        service = services[row.event]
        entry_key = (case, service.measurement_point_id, row.on)
        if entry_key in booked:
            result.entries_unchanged += 1
            if booked[entry_key] != row.in_pairs:
                result.notes.append(f"Zeile {row.line}: {row.event} am {row.on:%d.%m.%Y} ist schon gebucht, "
                                    f"dort mit zu_zweit „{'ja' if booked[entry_key] else 'nein'}“; nicht geändert.")
            continue
        booked[entry_key] = row.in_pairs
        entry = Entry(case=case, service=service, entry_date=row.on, in_pairs=row.in_pairs,
                      info=f"Import: {path.name}"[:200])
        entry.org_unit_id = case.org_unit_id  # the case's unit: isolation works as for any entry
        session.add(entry)
        new_entries.append(entry)
    result.entries_created = len(new_entries)

    previous = session.info.get(FOLLOW_UPS_NOT_BEFORE)
    session.info[FOLLOW_UPS_NOT_BEFORE] = today
    try:
        with acting_as(ACTOR):
            session.flush()
    except SQLAlchemyError as exc:
        raise EventImportError(f"{path.name}: Nichts importiert, die Datenbank hat das Schreiben abgelehnt "
                               f"({exc.__class__.__name__}: {getattr(exc, 'orig', exc)}).") from None
    finally:
        if previous is None:
            session.info.pop(FOLLOW_UPS_NOT_BEFORE, None)
        else:
            session.info[FOLLOW_UPS_NOT_BEFORE] = previous
    if new_entries:
        ids = [e.id for e in new_entries]
        result.follow_ups_created = sum(session.scalar(select(func.count()).select_from(Task)
                                                       .where(Task.source_entry_id.in_(chunk)))
                                        for chunk in _chunks(ids))
    return result
