"""Subject access (Art. 15 DSGVO, § 83 SGB X): everything stored about one person, as one ZIP (#15).

The ZIP holds a readable summary (``auskunft.docx``), the raw data (``daten.json``, ``daten.xlsx``), the
letters (``briefe/``), the documents (``dokumente/``) and the history of every record (in the raw data).
What belongs to the person:
1. the partner record and its own pages (addresses, contacts, roles, relationships, erasure requests);
2. every record that names the person (a household membership, a social situation, an entry about them);
3. the cases where the person is the client, with their pages, letters and documents;
4. never another person's data: a page that names someone else (another household member's situation)
   is left out, and a pointer to another person reads "andere Person" (institutions keep their name).
Only what the actor's units see; sensitive fields the profile may only list are masked, pages it may not
see at all are left out (the summary says so). Every sensitive record read is in the access log, and the
export itself too.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..actor import Actor
from ..core_models import Attachment, ChangeLog, utcnow
from ..domain.dates import format_date, format_datetime
from ..errors import DomainError
from ..letters.models import Letter
from ..letters.storage import FileIntegrityError, read_verified
from ..metamodel.build_models import built_registry, column_name
from ..metamodel.kinds import kind_of, points_to
from ..privacy_models import AccessLog
from ..scoping import scope_query
from .access_log import MASK, log_reads

OTHER_PERSON = "andere Person"
ABOUT = ("member", "person", "earner")  # optional fields that say whom a page is about
READ, LIST, NONE = "read", "list", "none"


@dataclass
class Export:
    partner_id: int
    name: str
    sections: dict[str, list[dict]] = field(default_factory=dict)  # entity label -> rows (label -> text)
    raw: dict[str, list[dict]] = field(default_factory=dict)  # entity name -> rows (field -> json value)
    omitted: list[str] = field(default_factory=list)  # page labels the profile may not see
    letters: list[tuple[str, bytes]] = field(default_factory=list)
    documents: list[tuple[str, bytes]] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    read: dict[str, list] = field(default_factory=dict)  # sensitive entity -> records read (for the log)


def _json(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _is_person(partner) -> bool:
    return getattr(getattr(partner, "kind", None), "code", "person") != "institution"


def _visible(session: Session, model, query, actor: Actor):
    return list(session.scalars(scope_query(query, model, actor=actor)))


def collect(session: Session, partner_id: int, actor: Actor, access: Callable[[str], str] = lambda name: READ) -> Export:
    """Everything about partner ``partner_id`` that ``actor`` may see; ``access(entity)`` is the profile's level
    (read, list: sensitive fields masked, none: left out). Raises DomainError if the partner is not visible."""
    registry = built_registry()
    spec = registry.spec
    partner_model = registry.model("partner")
    partners = _visible(session, partner_model, select(partner_model).where(partner_model.id == partner_id), actor)
    if not partners:
        raise DomainError(f"Partner Nr. {partner_id} nicht gefunden (oder nicht in Ihren Dienststellen).")
    subject = partners[0]
    export = Export(partner_id=subject.id, name=str(subject))
    chosen: dict[str, dict[int, object]] = {"partner": {subject.id: subject}}

    def add(name: str, rows) -> None:
        bucket = chosen.setdefault(name, {})
        for row in rows:
            bucket.setdefault(row.id, row)

    # 1 + 2: records that name the person (their own pages included: those point at them as parent).
    for em in registry:
        for f in em.spec.fields:
            if points_to(f, "partner"):
                col = getattr(em.model, column_name(f))
                add(em.spec.name, _visible(session, em.model, select(em.model).where(col == subject.id), actor))
    # 3: the client's cases with every page below them.
    client_cases = {cid for cid, case in chosen.get("case", {}).items() if case.client_id == subject.id}
    frontier = {"case": client_cases}
    while frontier:
        next_frontier: dict[str, set[int]] = {}
        for parent, ids in frontier.items():
            for child in (e for e in spec.entities if e.parent == parent):
                model = registry.model(child.name)
                col = getattr(model, column_name(child.field(child.parent_field or child.parent)))
                rows = _visible(session, model, select(model).where(col.in_(sorted(ids) or [-1])), actor)
                rows = [r for r in rows if not _names_someone_else(registry, child, r, subject.id)]
                add(child.name, rows)
                if rows:
                    next_frontier.setdefault(child.name, set()).update(r.id for r in rows)
        frontier = next_frontier
    # A case that merely names the person (as a member, through a page) is shown by its file number only.
    for name, rows in chosen.items():
        entity = spec.entity(name)
        level = access(name)
        if level == NONE:
            if rows:
                export.omitted.append(entity.plural)
            continue
        masked = level != READ
        shown, raw = [], []
        for record in sorted(rows.values(), key=lambda r: r.id):
            if name == "case" and record.client_id != subject.id:
                shown.append({"Nr.": str(record.id), "Aktenzeichen": record.file_number or "",
                              "Hinweis": "Fallakte einer anderen Person; hier nur als Bezug genannt"})
                raw.append({"id": record.id, "file_number": record.file_number, "reference_only": True})
                continue
            text, data = {"Nr.": str(record.id)}, {"id": record.id}
            for f in entity.fields:
                if f.hidden:
                    continue
                value = getattr(record, f.name, None)
                if masked and f.sensitive and value not in (None, "", []):
                    text[f.label], data[f.name] = MASK, MASK
                    continue
                text[f.label], data[f.name] = _shown(f, value, subject.id)
            shown.append(text)
            raw.append(data)
            if entity.is_sensitive and not masked:
                export.read.setdefault(name, []).append(record)
        export.sections[entity.plural] = shown
        export.raw[name] = raw
    _letters_and_documents(session, export, chosen, subject, client_cases, access)
    _history(session, export, chosen, registry, access)
    return export


def _names_someone_else(registry, entity, record, subject_id: int) -> bool:
    """A page below the client's case that is about another person (their situation, their income)."""
    parent_field = entity.parent_field or entity.parent
    for f in entity.fields:
        if not points_to(f, "partner") or f.name == parent_field:
            continue
        other = getattr(record, f.name, None)
        # A required person (the member, the person of a situation) or an optional "about whom" field.
        if other is not None and other.id != subject_id and _is_person(other) and (f.required or f.name in ABOUT):
            return True
    return False


def _shown(f, value, subject_id: int):
    """(text, JSON value) of one field; a pointer to another person reads "andere Person"."""
    kind = kind_of(f)
    if points_to(f, "partner") and value is not None:
        if value.id != subject_id and _is_person(value):
            return OTHER_PERSON, OTHER_PERSON
        return str(value), str(value)
    if kind.refers_to_record and value is not None:
        label = getattr(value, "file_number", None) or f"Nr. {value.id}"
        return str(label), value.id
    text = kind.display(value)
    if kind.storage == "multiple":
        return text, [v.code for v in value or []]
    if kind.storage == "reference":
        return text, getattr(value, "code", None) or (str(value) if value is not None else None)
    return text, _json(value)


def _letters_and_documents(session: Session, export: Export, chosen, subject, client_cases: set[int], access) -> None:
    if client_cases and access("doc_entry") != NONE:
        letters = session.scalars(select(Letter).where(Letter.case_id.in_(sorted(client_cases))).order_by(Letter.id))
        for letter in letters:
            try:
                export.letters.append((f"{letter.id}_{letter.file_name}", read_verified(letter.path, letter.sha256)))
            except (FileIntegrityError, OSError):
                export.letters.append((f"{letter.id}_{letter.file_name}.fehlt.txt",
                                       "Datei fehlt oder wurde verändert.".encode()))
    entries = sorted(chosen.get("doc_entry", {}))
    if entries and access("doc_entry") != NONE:
        for att in session.scalars(select(Attachment).where(Attachment.doc_entry_id.in_(entries)).order_by(Attachment.id)):
            try:
                export.documents.append((f"{att.id}_{att.file_name}", read_verified(att.path, att.sha256)))
            except (FileIntegrityError, OSError):
                export.documents.append((f"{att.id}_{att.file_name}.fehlt.txt", "Datei fehlt.".encode()))


def _history(session: Session, export: Export, chosen, registry, access) -> None:
    """The change history of the exported records; a change of a pointer to a person is left out (it may
    name someone else), and masked pages keep their history to themselves."""
    for name, rows in chosen.items():
        if not rows or access(name) != READ:
            continue
        entity = registry.entity(name)
        person_fields = {f.label for f in entity.fields if points_to(f, "partner")} | {
            f.name for f in entity.fields if points_to(f, "partner")}
        ids = sorted(rows)
        query = (select(ChangeLog).where(ChangeLog.entity == name, ChangeLog.record_id.in_(ids))
                 .order_by(ChangeLog.changed_at, ChangeLog.id))
        for entry in session.scalars(query):
            if entry.field in person_fields and name != "partner":
                continue
            export.history.append({"Seite": entity.label, "Nr.": entry.record_id, "Aktion": entry.action,
                                   "Feld": entry.field or "", "alt": entry.old_value or "", "neu": entry.new_value or "",
                                   "von": entry.changed_by, "am": format_datetime(entry.changed_at)})


# --- writing the ZIP -------------------------------------------------------------------------------------

def summary_docx(export: Export, made_on: date) -> bytes:
    from docx import Document
    document = Document()
    document.add_heading("Auskunft nach Art. 15 DSGVO", level=1)
    document.add_paragraph(f"Betroffene Person: {export.name} (Partner Nr. {export.partner_id})")
    document.add_paragraph(f"Stand: {format_date(made_on)}. Die Rohdaten stehen in daten.json und daten.xlsx, "
                           "Briefe im Ordner briefe/, Dokumente im Ordner dokumente/.")
    for label, rows in export.sections.items():
        document.add_heading(label, level=2)
        for row in rows:
            table = document.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            for key, value in row.items():
                cells = table.add_row().cells
                cells[0].text, cells[1].text = str(key), str(value or "")
            document.add_paragraph("")
    if export.omitted:
        document.add_heading("Nicht enthalten", level=2)
        document.add_paragraph("Für diese Seiten fehlt dem erstellenden Profil die Berechtigung: "
                               + ", ".join(export.omitted) + ". Die Datenschutzstelle ergänzt sie.")
    document.add_heading("Briefe und Dokumente", level=2)
    for name, _ in export.letters + export.documents:
        document.add_paragraph(name, style="List Bullet")
    if not export.letters and not export.documents:
        document.add_paragraph("keine")
    document.add_heading("Änderungsverlauf", level=2)
    document.add_paragraph(f"{len(export.history)} Einträge (siehe daten.json, Abschnitt „verlauf“).")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def raw_xlsx(export: Export) -> bytes:
    """One sheet per table of the raw data plus "verlauf"; written with XlsxWriter, the app's one XLSX writer."""
    from datetime import date, datetime
    from decimal import Decimal

    import xlsxwriter

    from .xlsx_export import BERLIN
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    try:
        day = book.add_format({"num_format": "DD.MM.YYYY"})
        moment = book.add_format({"num_format": "DD.MM.YYYY hh:mm"})
        for name, rows in [*export.raw.items(), ("verlauf", export.history)]:
            sheet = book.add_worksheet(name[:31])
            keys: list[str] = []
            for row in rows:
                keys += [k for k in row if k not in keys]
            for col, key in enumerate(keys or ["(keine Daten)"]):
                sheet.write_string(0, col, str(key))
            for r, row in enumerate(rows, start=1):
                for col, key in enumerate(keys):
                    v = row.get(key)
                    if v is None:
                        continue
                    if isinstance(v, (list, dict)):
                        sheet.write_string(r, col, json.dumps(v, ensure_ascii=False))
                    elif isinstance(v, bool):
                        sheet.write_boolean(r, col, v)
                    elif isinstance(v, (int, float, Decimal)):
                        sheet.write_number(r, col, float(v))
                    elif isinstance(v, datetime):
                        local = v.astimezone(BERLIN).replace(tzinfo=None) if v.tzinfo else v  # Berlin wall clock
                        sheet.write_datetime(r, col, local, moment)
                    elif isinstance(v, date):
                        sheet.write_datetime(r, col, v, day)
                    else:
                        sheet.write_string(r, col, str(v))
    finally:
        book.close()
    return out.getvalue()


def write_zip(export: Export, made_on: date) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("auskunft.docx", summary_docx(export, made_on))
        archive.writestr("daten.json", json.dumps({"partner_id": export.partner_id, "name": export.name,
                                                   "stand": made_on.isoformat(), "daten": export.raw,
                                                   "nicht_enthalten": export.omitted, "verlauf": export.history,
                                                   "briefe": [n for n, _ in export.letters],
                                                   "dokumente": [n for n, _ in export.documents]},
                                                  ensure_ascii=False, indent=2))
        archive.writestr("daten.xlsx", raw_xlsx(export))
        for name, data in export.letters:
            archive.writestr(f"briefe/{name}", data)
        for name, data in export.documents:
            archive.writestr(f"dokumente/{name}", data)
    return out.getvalue()


def subject_access_zip(session: Session, partner_id: int, actor: Actor,
                       access: Callable[[str], str] = lambda name: READ) -> tuple[Export, bytes]:
    """The ZIP for one person; the sensitive records read and the export itself go into the access log.
    The caller commits."""
    export = collect(session, partner_id, actor, access)
    data = write_zip(export, actor.today)
    for name, records in export.read.items():
        log_reads(session, actor, name, records, "subject_access", detail=f"Auskunft Art. 15 für Partner {partner_id}")
    session.add(AccessLog(at=utcnow(), user_id=actor.user_id, username=actor.name[:64], entity="partner",
                          record_id=partner_id, channel="export", detail="Auskunft Art. 15 DSGVO (ZIP) erstellt"))
    session.flush()
    return export, data
