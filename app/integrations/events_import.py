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
4. the rows are read by app/integrations/events_reading.py; the file is read and written through the shared pipeline (app/integrations/pipeline.py): streamed twice
   (check, then write), bulk inserts in batches; the rules of app/services/documentation.py run through
   the same functions (app/domain/entry_rules.py); follow-ups already due before the import day are not
   created (an import of 2023 must not flood the worklist).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import CatalogueValue, ChangeLog, OrgUnit, utcnow
from ..domain.entry_rules import follow_up_due, snapshot, task_outcome
from ..metamodel.build_models import built_registry, column_name
from ..metamodel.kinds import kind_of
from ..services.documentation import working_calendar
from ..services.history import acting_as, change_row
from ..services.seed import catalogue_value
from .events_reading import (  # noqa: F401  (the reading side, re-exported for callers of this module)
    EARLIEST, EVENTS, FUTURE_EVENTS, HEADER, PAIR_EVENTS, EventImportError, EventRow, UnitMatcher, columns,
    open_file, parse_date, read_events, scan)
from .pipeline import (MISSING_COLUMN, UNKNOWN_REFERENCE, Collector, ProgressFn, batches, created_log, insert_rows,
                       record_values)

ACTOR = "import"
PLACEHOLDER_SURNAME = "Unbekannt (Import)"


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


def _find_cases(session: Session, Case, opened: dict, first_line: dict) -> tuple[dict, list[tuple[int, str]]]:
    """The cases the file names, by (org unit, the district's number); one number twice in a unit is an error
    (line, message)."""
    cases: dict[tuple[int, str], object] = {}
    errors = []
    for unit_id in {key[0] for key in opened}:
        refs = [key[1] for key in opened if key[0] == unit_id]
        for chunk in batches(refs, 500):
            for case in session.scalars(select(Case).where(Case.org_unit_id == unit_id, Case.external_ref.in_(chunk))
                                        .order_by(Case.id)):
                key = (unit_id, case.external_ref)
                if key in cases:
                    errors.append((first_line[key], f"Fall „{key[1]}“ gibt es in "
                                   f"{session.get(OrgUnit, unit_id).name} mehrfach (Fallakten Nr. {cases[key].id}, "
                                   f"{case.id}); bitte in der Anwendung bereinigen"))
                cases.setdefault(key, case)
    return cases, errors


def _booked(session: Session, Entry, case_ids: Iterable[int]) -> dict[tuple[int, int, date], bool]:
    """What the cases already have, by (case, measurement point, date) -- the idempotency key -- with "zu zweit"."""
    booked: dict[tuple[int, int, date], bool] = {}
    for chunk in batches(list(case_ids), 500):
        for case_id, point_id, on, in_pairs in session.execute(
                select(Entry.case_id, Entry.measurement_point_id, Entry.entry_date, Entry.in_pairs)
                .where(Entry.case_id.in_(chunk)).order_by(Entry.id)):
            booked.setdefault((case_id, point_id, on), bool(in_pairs))
    return booked


def _with_open_tasks(session: Session, Task, case_ids: Iterable[int]) -> set[int]:
    """The cases with an open task: a new entry may complete or cancel it."""
    state = catalogue_value(session, "task_state", "open")
    found: set[int] = set()
    for chunk in batches(list(case_ids), 500) if state is not None else ():
        found.update(session.scalars(select(Task.case_id).where(Task.case_id.in_(chunk), Task.state_id == state.id)
                                     .distinct()))
    return found


def _column_values(entity, values: dict) -> dict:
    """Field values (catalogue values, dates, text) as the table's columns."""
    out = {}
    for name, value in values.items():
        f = entity.field(name)
        out[column_name(f)] = value.id if isinstance(value, CatalogueValue) else value
    return out


def _entry_title(Entry, on: date, service, titles: dict) -> str:
    # The entry's title as the ORM's history shows it ("06.03.2023, Hausbesuch"): the model's own __str__.
    if (on, service.id) not in titles:
        titles[(on, service.id)] = Entry.__str__(SimpleNamespace(entry_date=on, service=service, id=None))
    return titles[(on, service.id)]


def import_events(session: Session, path: Path | bytes, today: date | None = None, actor: Actor | None = None,
                  progress: ProgressFn | None = None, file_name: str | None = None) -> EventImportResult:
    """Book the events of ``path`` (a file, or its bytes with ``file_name``); the caller commits, or rolls
    back on EventImportError and for a dry run.

    1. pass one streams the file and checks every row; it keeps only the key sets (cases, idempotency keys);
    2. pass two streams it again and writes in batches with Core ``insert()``; the rules of documentation
       run per case in date order through app/domain/entry_rules.py, as the flush listener runs them.
    """
    actor = actor or Actor.system(ACTOR)
    today = today or actor.today
    csv_file = open_file(path, file_name)
    name = csv_file.file_name
    registry = built_registry()
    Case, Partner, Entry, Service, Task = (registry.model(n) for n in ("case", "partner", "doc_entry", "service",
                                                                       "task"))
    case_spec, partner_spec = registry.entity("case"), registry.entity("partner")
    ref_length = case_spec.field("external_ref").length or 40
    units = list(session.scalars(select(OrgUnit)))

    # Pass one: check everything, keep the keys.
    problems = Collector(name)
    canon: dict[tuple[int, str], tuple[int, str]] = {}  # one tuple per case key, shared by the sets below
    opened: dict[tuple[int, str], date] = {}
    first_line: dict[tuple[int, str], int] = {}
    first_of: dict[tuple, int] = {}  # (case key, event, date) -> first line * 2 + zu_zweit: the idempotency keys
    events: set[str] = set()
    # Cases whose new entries may create a follow-up: only their entries (and those of cases with open
    # tasks) are kept for the rules, not every row's.
    all_services = list(session.scalars(select(Service)))
    chosen, _ = pick_services(all_services, EVENTS, today)
    calendar, follows = working_calendar(registry.spec), {}
    ruled: set[tuple[int, str]] = set()
    rows = 0
    for row in scan(csv_file, units, today, ref_length, problems, progress, "geprüft"):
        rows += 1
        key = canon.setdefault((row.unit_id, row.ref), (row.unit_id, row.ref))
        if key not in opened:
            opened[key], first_line[key] = row.on, row.line
        elif row.on < opened[key]:
            opened[key] = row.on
        events.add(row.event)
        first_of.setdefault((key, row.event, row.on), row.line * 2 + row.in_pairs)
        if (row.event, row.on) not in follows:
            service = chosen.get(row.event)
            follows[(row.event, row.on)] = service is not None and follow_up_due(
                row.on, service.follow_up_days, service.follow_up_title, calendar, today) is not None
        if follows[(row.event, row.on)]:
            ruled.add(key)
    if problems:
        raise EventImportError.of(problems)
    if not rows:
        raise EventImportError(name, [], heading=f"{name}: Die Datei enthält keine Ereignisse, nur die Kopfzeile.",
                               listed=False)

    result = EventImportResult(file_name=name, rows=rows)
    services, errors = pick_services(all_services, events, today)
    for message in errors:
        problems.add(UNKNOWN_REFERENCE, message, column="ereignis")
    cases, duplicates = _find_cases(session, Case, opened, first_line)
    for line, message in duplicates:
        problems.add(UNKNOWN_REFERENCE, message, line, "fall_id")
    case_defaults, partner_defaults = {}, {}
    if len(cases) < len(opened):
        case_defaults, missing = _defaults(session, case_spec, {"client", "opened_on", "external_ref",
                                                                "file_number", "info"}, today)
        partner_defaults, more = _defaults(session, partner_spec, {"kind", "surname", "first_name", "info"}, today)
        for message in missing + more:
            problems.add(MISSING_COLUMN, message)
    if problems:
        raise EventImportError.of(problems)
    result.services = {event: f"{s.name} ({s.code})" for event, s in services.items()}
    result.cases_found = len(cases)
    case_ids = {key: case.id for key, case in cases.items()}
    unit_of = {case.id: case.org_unit_id for case in cases.values()}
    booked = _booked(session, Entry, case_ids.values())
    with_tasks = _with_open_tasks(session, Task, case_ids.values())
    del cases, follows

    plan = _Plan(name, services, canon, opened, first_of, ruled, case_ids, unit_of, booked, with_tasks,
                 case_defaults, partner_defaults)
    try:
        per_case = _write(session, csv_file, units, today, ref_length, progress, actor.name, result, plan)
        _apply_rules(session, registry, per_case, unit_of, today, actor.name, result)
    except SQLAlchemyError as exc:
        raise EventImportError(name, [], heading=(
            f"{name}: Nichts importiert, die Datenbank hat das Schreiben abgelehnt "
            f"({exc.__class__.__name__}: {getattr(exc, 'orig', exc)})."), listed=False) from None
    return result


@dataclass
class _Plan:
    """What pass one and the database told pass two: the key sets, nothing per row but the idempotency keys."""
    name: str
    services: dict  # event -> service
    canon: dict  # (unit id, district's number) -> the one shared tuple
    opened: dict  # case key -> earliest date in the file
    first_of: dict  # (case key, event, date) -> first line * 2 + zu_zweit
    ruled: set  # case keys whose entries may create a follow-up
    case_ids: dict  # case key -> id (found; pass two adds the new ones)
    unit_of: dict  # case id -> org unit id
    booked: dict  # (case id, measurement point id, date) -> zu_zweit, already stored
    with_tasks: set  # ids of found cases with an open task
    case_defaults: dict
    partner_defaults: dict


def _write(session, csv_file, units, today, ref_length, progress, actor_name, result, plan: _Plan) -> dict:
    """Pass two: placeholder clients, cases and entries in batches; returns per case the new entries
    (date, order, id, service) for the rules."""
    registry = built_registry()
    Case, Partner, Entry = (registry.model(n) for n in ("case", "partner", "doc_entry"))
    case_spec, partner_spec, entry_spec = (registry.entity(n) for n in ("case", "partner", "doc_entry"))
    name, services, canon, opened = plan.name, plan.services, plan.canon, plan.opened
    case_ids, unit_of, booked, first_of = plan.case_ids, plan.unit_of, plan.booked, plan.first_of
    ruled, with_tasks = plan.ruled, plan.with_tasks
    case_defaults = _column_values(case_spec, plan.case_defaults)
    partner_defaults = _column_values(partner_spec, plan.partner_defaults)
    person = session.scalars(select(CatalogueValue).where(CatalogueValue.catalogue == "partner_kind",
                                                          CatalogueValue.code == "person")).first()
    file_number_length = case_spec.field("file_number").length or 30
    stamp, now = f"{name}, {today:%d.%m.%Y}", utcnow()
    snapshots = {event: snapshot(service) for event, service in services.items()}
    per_case: dict[int, list] = defaultdict(list)
    seq, titles = 0, {}
    for batch in batches(scan(csv_file, units, today, ref_length, Collector(name), progress, "importiert")):
        # New cases first, each with its placeholder client.
        new_keys = []
        for row in batch:
            key = canon[(row.unit_id, row.ref)]
            if key not in case_ids and key not in new_keys:
                new_keys.append(key)
                case_ids[key] = None
        if new_keys:
            partners = [record_values(partner_spec, {
                **partner_defaults, "kind_id": person.id if person else None, "surname": PLACEHOLDER_SURNAME,
                "first_name": ref, "org_unit_id": unit_id,
                "info": f"Platzhalter aus Import {stamp}: Klient/in unbekannt. Bitte die richtige Person "
                        "eintragen oder mit ihr zusammenführen."}, actor_name, now) for unit_id, ref in new_keys]
            partner_ids = insert_rows(session, Partner.__table__, partners)
            new_cases = [record_values(case_spec, {
                **case_defaults, "client_id": client_id, "opened_on": opened[key], "external_ref": key[1],
                "file_number": key[1] if len(key[1]) <= file_number_length else None,
                "info": f"Angelegt durch Import {stamp}.", "org_unit_id": key[0]}, actor_name, now)
                for key, client_id in zip(new_keys, partner_ids)]
            ids = insert_rows(session, Case.__table__, new_cases)
            for key, case_id in zip(new_keys, ids):
                case_ids[key], unit_of[case_id] = case_id, key[0]
            created_log(session, "partner", partner_ids, actor_name, now)
            created_log(session, "case", ids, actor_name, now)
            result.cases_created += len(ids)
            result.partners_created += len(partner_ids)
        # Then the entries that are not booked yet.
        entries, made = [], []
        for row in batch:
            key = canon[(row.unit_id, row.ref)]
            case_id, service = case_ids[key], services[row.event]
            point_id, contact = snapshots[row.event]
            entry_key = (case_id, point_id, row.on)
            line, pairs = divmod(first_of[(key, row.event, row.on)], 2)
            booked_pairs = booked.get(entry_key, bool(pairs) if line != row.line else None)
            if booked_pairs is not None:
                result.entries_unchanged += 1
                if booked_pairs != row.in_pairs:
                    result.notes.append(f"Zeile {row.line}: {row.event} am {row.on:%d.%m.%Y} ist schon gebucht, "
                                        f"dort mit zu_zweit „{'ja' if booked_pairs else 'nein'}“; nicht geändert.")
                continue
            entries.append(record_values(entry_spec, {
                "case_id": case_id, "service_id": service.id, "entry_date": row.on, "in_pairs": row.in_pairs,
                "info": f"Import: {name}"[:200], "provider_id": None, "org_unit_id": unit_of[case_id],
                "measurement_point_id": point_id, "counts_as_contact": contact}, actor_name, now))
            made.append((case_id, row.on, service, key in ruled or case_id in with_tasks))
        ids = insert_rows(session, Entry.__table__, entries)
        created_log(session, "doc_entry", ids, actor_name, now)
        # The case's history shows the entry, as app/services/documentation.py writes it after a flush.
        case_lines = [change_row("case", case_id, "entry_added", actor_name, now, "doc_entry", None,
                                 _entry_title(Entry, on, service, titles)) for (case_id, on, service, _) in made]
        insert_rows(session, ChangeLog.__table__, case_lines, returning=False)
        for entry_id, (case_id, on, service, needs_rules) in zip(ids, made):
            seq += 1
            if needs_rules:
                per_case[case_id].append((on, seq, entry_id, service))
        result.entries_created += len(ids)
    return per_case


def _apply_rules(session, registry, per_case: dict, unit_of: dict, today: date, actor_name: str, result) -> None:
    """The rules of app/services/documentation.py for the new entries, per case in date order: open tasks
    done or cancelled, follow-ups created unless already due before the import day."""
    Task, task_spec = registry.model("task"), registry.entity("task")
    state = {code: catalogue_value(session, "task_state", code) for code in ("open", "done", "cancelled")}
    calendar = working_calendar(registry.spec)
    existing: dict[int, list] = defaultdict(list)
    if state["open"] is not None:
        for chunk in batches(list(per_case), 500):
            for task in session.scalars(select(Task).where(Task.case_id.in_(chunk), Task.state_id == state["open"].id)
                                        .order_by(Task.id)):
                existing[task.case_id].append(task)
    new_tasks, now = [], utcnow()
    for case_id, items in per_case.items():
        items.sort(key=lambda item: (item[0], item[1]))
        open_tasks = existing.get(case_id, [])
        for on, _seq, entry_id, service in items:
            point_id, contact = snapshot(service)
            still_open = []
            for task in open_tasks:
                if isinstance(task, dict):
                    facts = (task["closed_by_id"], task["cancel_on_contact"], task["source"])
                else:
                    facts = (task.closed_by_id, bool(task.cancel_on_contact),
                             task.source_entry.entry_date if task.source_entry is not None else None)
                outcome = task_outcome(closed_by_id=facts[0], cancel_on_contact=facts[1], source_date=facts[2],
                                       point_id=point_id, counts_as_contact=contact, on=on)
                if outcome is None:
                    still_open.append(task)
                elif isinstance(task, dict):
                    task["state_id"], task["done_on"] = state[outcome].id, on
                else:
                    task.state, task.done_on = state[outcome], on
            open_tasks = still_open
            due = follow_up_due(on, service.follow_up_days, service.follow_up_title, calendar, today)
            if due is not None and state["open"] is not None:
                task = {"case_id": case_id, "title": service.follow_up_title, "due_on": due,
                        "state_id": state["open"].id, "closed_by_id": service.follow_up_closed_by_id,
                        "cancel_on_contact": bool(service.follow_up_cancel_on_contact), "source_entry_id": entry_id,
                        "assignee_id": None, "org_unit_id": unit_of[case_id], "done_on": None, "source": on}
                new_tasks.append(task)
                open_tasks.append(task)
    for batch in batches(new_tasks):
        rows = [record_values(task_spec, {k: v for k, v in task.items() if k != "source"}, actor_name, now)
                for task in batch]
        created_log(session, "task", insert_rows(session, Task.__table__, rows), actor_name, now)
    result.follow_ups_created = len(new_tasks)
    with acting_as(actor_name):
        session.flush()  # the existing tasks that were done or cancelled, with their history
