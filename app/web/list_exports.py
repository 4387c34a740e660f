"""XLSX of the hand-written lists (#14 §4): Meine Fälle, the documentation (a case's and the overview), the
worklist. Each export reads the same service query as its page (same filters, same ``scope_query``), without
the page's cap or paging, and writes it with the one writer (``app.web.xlsx.xlsx_response``). The headers
are the YAML labels of the fields.
"""
from __future__ import annotations

from flask import current_app

from ..services.xlsx_export import XlsxColumn, column_for_field


def labels(entity: str, *names: str) -> list[str]:
    spec = current_app.config["FACHSTELLE_SPEC"].entity(entity)
    return [spec.field(name).label for name in names]


def field_columns(entity: str, *names: str) -> list[XlsxColumn]:
    spec = current_app.config["FACHSTELLE_SPEC"].entity(entity)
    return [column_for_field(spec.field(name)) for name in names]


def case_columns() -> list[XlsxColumn]:
    return field_columns("case", "file_number", "client", "opened_on", "closed_on", "status")


def case_row(case) -> list:
    return [case.file_number, str(case.client) if case.client else None, case.opened_on, case.closed_on,
            case.status.label if case.status else None]


def doc_columns(with_case: bool) -> list[XlsxColumn]:
    columns = field_columns("doc_entry", "entry_date", "service", "info", "text", "provider")
    if with_case:
        columns += [XlsxColumn(labels("doc_entry", "case")[0], "text", 16), XlsxColumn(labels("case", "client")[0])]
    return columns


def doc_row(entry, with_case: bool) -> list:
    row = [entry.entry_date, entry.service.name if entry.service else None, entry.info, entry.text,
           str(entry.provider) if entry.provider else None]
    if with_case:
        row += [entry.case.file_number or f"Fallakte {entry.case.id}", str(entry.case.client) if entry.case.client
                else None]
    return row


def task_columns() -> list[XlsxColumn]:
    return field_columns("task", "due_on", "title", "assignee", "state") + [
        XlsxColumn(labels("task", "case")[0], "text", 16)]


def task_row(task) -> list:
    return [task.due_on, task.title, str(task.assignee) if task.assignee else None,
            task.state.label if task.state else None,
            (task.case.file_number or f"Fallakte {task.case.id}") if task.case else None]
