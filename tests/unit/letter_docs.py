"""Small .docx files for letter tests, made with python-docx."""
from __future__ import annotations

import io

from docx import Document


def docx_with(*paragraphs: str, header: str | None = None, footer: str | None = None, table: str | None = None,
              title: str | None = None) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table is not None:
        document.add_table(rows=1, cols=1).rows[0].cells[0].paragraphs[0].add_run(table)
    if header is not None:
        document.sections[0].header.paragraphs[0].add_run(header)
    if footer is not None:
        document.sections[0].footer.paragraphs[0].add_run(footer)
    if title is not None:
        document.core_properties.title = title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_of(data: bytes) -> str:
    """All text of a .docx: body paragraphs, table cells, headers and footers."""
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for r in t.rows for c in r.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)
