"""Build the shipped letter templates (letter_templates/*.docx) with python-docx, byte for byte the same.

    .venv/bin/python scripts/make_letter_templates.py            # write letter_templates/
    .venv/bin/python scripts/make_letter_templates.py --check    # exit 1 if a committed file differs

The letters follow DIN 5008 form B on A4: letterhead in the page header, the address field (85 × 45 mm
with the return line) at 45 mm from the top edge, the information block to its right (Dienststelle,
Zimmer, Auskunft erteilt, Telefon, Fax, E-Mail, Ihr Schreiben vom, Ihr Zeichen, Mein Zeichen, Datum),
subject in bold without the word "Betreff", salutation, text, closing, and the office's contact details
and consultation hours in the footer. Texts follow the Berlin quality standards (QS 1.1: invitation
with a fixed appointment after the court's notice of an eviction lawsuit; QS 1.3: offer of a short
talk in the open consultation hours after the bailiff's notice of the eviction date).

The placeholders are those of app/letters/placeholders.py; the templates hold no logic beyond one
``{% if %}`` in the footer.
"""
from __future__ import annotations

import argparse
import io
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "letter_templates"
FIXED_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)
GREY = RGBColor(0x59, 0x59, 0x59)

INFO_BLOCK = [
    ("Dienststelle", "{{ office.name }}"),
    ("Anschrift", "{{ office.address }}"),
    ("Zimmer", "{{ clerk.room }}"),
    ("Auskunft erteilt", "{{ clerk.info_name }}"),
    ("Telefon", "{{ clerk.phone }}"),
    ("Fax", "{{ clerk.fax }}"),
    ("E-Mail", "{{ clerk.email }}"),
    ("Ihr Schreiben vom", "{{ letter.your_letter_of }}"),
    ("Ihr Zeichen", "{{ letter.your_ref }}"),
    ("Mein Zeichen", "{{ letter.my_ref }}"),
    ("Datum", "{{ letter.date }}"),
]

APPOINTMENT = [
    ("b", "{{ appointment.weekday }}, {{ appointment.date }}, um {{ appointment.time }}"),
    ("b", "Ort: {{ appointment.place }}"),
]

TEMPLATES = {
    "einladung_raeumungsklage": {
        "title": "Räumungsklage: Einladung zu einem Gespräch (QS 1.1)",
        "subject": "Räumungsklage: Einladung zu einem Gespräch",
        "body": [
            ("p", "das Amtsgericht hat uns mitgeteilt, dass Ihr Vermieter eine Klage auf Räumung Ihrer Wohnung "
                  "eingereicht hat. Damit besteht für Sie die akute Gefahr, Ihre Wohnung zu verlieren und "
                  "wohnungslos zu werden."),
            ("p", "Um Ihre Wohnung nach Möglichkeit zu erhalten und eine Zwangsräumung abzuwenden, ist ein "
                  "Gespräch mit Ihnen erforderlich. Ich habe dafür diesen Termin für Sie reserviert:"),
            *APPOINTMENT,
            ("p", "Bitte bringen Sie – soweit vorhanden – diese Unterlagen mit:"),
            ("li", "die Klageschrift und alle Schreiben des Amtsgerichts,"),
            ("li", "Ihren Mietvertrag, die Kündigung und die Schreiben Ihres Vermieters,"),
            ("li", "Nachweise über Ihr Einkommen (z. B. Bescheid des Jobcenters, Lohnabrechnung, Rentenbescheid),"),
            ("li", "Ihre Kontoauszüge der letzten drei Monate,"),
            ("li", "Ihren Personalausweis oder Pass."),
            ("p", "Wenn Sie den Termin nicht wahrnehmen können, rufen Sie mich bitte an oder schreiben Sie mir, "
                  "damit wir einen anderen Termin vereinbaren. Bitte warten Sie nicht ab: Je früher wir "
                  "miteinander sprechen, desto eher lässt sich Ihre Wohnung erhalten. Die Beratung ist "
                  "kostenlos und vertraulich."),
        ],
    },
    "anschreiben_zwangsraeumung": {
        "title": "Zwangsräumung: Angebot eines kurzfristigen Gesprächs (QS 1.3)",
        "subject": "Zwangsräumung Ihrer Wohnung am {{ case.eviction_date }}: Angebot eines kurzfristigen Gesprächs",
        "body": [
            ("p", "die Gerichtsvollzieherin oder der Gerichtsvollzieher hat uns mitgeteilt, dass die Räumung "
                  "Ihrer Wohnung für den {{ case.eviction_date }} angesetzt ist. Es bleibt nur noch wenig Zeit, "
                  "um den Verlust Ihrer Wohnung vielleicht noch abzuwenden oder eine Unterkunft für Sie zu finden."),
            ("p", "Bitte kommen Sie so bald wie möglich – ohne Termin – in unsere offene Sprechstunde:"),
            ("b", "{{ office.consultation_hours }}"),
            ("b", "{{ office.name }}, {{ office.address }}"),
            ("p", "Wenn Sie nicht kommen können, rufen Sie mich bitte an: {{ clerk.phone }}."),
            ("p", "Bringen Sie bitte das Schreiben der Gerichtsvollzieherin oder des Gerichtsvollziehers, das "
                  "Räumungsurteil, Ihren Mietvertrag und Nachweise über Ihr Einkommen mit. Die Beratung ist "
                  "kostenlos und vertraulich."),
        ],
    },
    "einladung_allgemein": {
        "title": "Einladung zu einem Gespräch",
        "subject": "Einladung zu einem Gespräch",
        "body": [
            ("p", "ich möchte gern mit Ihnen über Ihre Wohnsituation sprechen und lade Sie deshalb zu einem "
                  "Gespräch ein:"),
            *APPOINTMENT,
            ("p", "Bitte bringen Sie Ihren Personalausweis und – soweit vorhanden – Unterlagen zu Ihrer Wohnung "
                  "und zu Ihrem Einkommen mit."),
            ("p", "Wenn Sie den Termin nicht wahrnehmen können, sagen Sie bitte rechtzeitig ab, damit wir einen "
                  "anderen Termin vereinbaren können."),
        ],
    },
    # #15: the help plan for the client's signature (app/services/care.py print_plan).
    "hilfeplan": {
        "title": "Hilfeplan zur Unterschrift",
        "subject": "Hilfeplan (Version {{ plan.version }}), gültig ab {{ plan.valid_from }}",
        "body": [
            ("p", "wir haben miteinander folgenden Hilfeplan vereinbart{% if plan.social_worker %} (Sozialarbeit: "
                  "{{ plan.social_worker }}){% endif %}."),
            ("h", "Ziele"),
            ("p", "{%p for line in plan.goal_lines %}"),
            ("li", "{{ line }}"),
            ("p", "{%p endfor %}"),
            ("h", "Maßnahmen – wer macht was bis wann"),
            ("p", "{%p for line in plan.measure_lines %}"),
            ("li", "{{ line }}"),
            ("p", "{%p endfor %}"),
            ("p", "{% if plan.agreements %}Weitere Vereinbarungen: {{ plan.agreements }}{% endif %}"),
            ("p", "{% if plan.review_on %}Wir überprüfen den Plan gemeinsam am {{ plan.review_on }}.{% endif %}"),
            ("p", "Mit meiner Unterschrift bestätige ich, dass ich den Hilfeplan mitgestaltet habe und mit ihm "
                  "einverstanden bin."),
            ("p", "______________________________"),
            ("p", "Ort, Datum, Unterschrift {{ recipient.name }}"),
        ],
    },
    "bescheid": {
        "title": "Bescheid (Grundgerüst)",
        "subject": "Bescheid: {{ notice.subject }}",
        "body": [
            ("p", "hiermit ergeht folgender Bescheid:"),
            ("h", "Entscheidung"),
            ("p", "{{ notice.decision }}"),
            ("h", "Begründung"),
            ("p", "{{ notice.reasons }}"),
            ("h", "Rechtsbehelfsbelehrung"),
            ("p", "{{ notice.legal_remedy }}"),
        ],
    },
    # #12 §4: Gebührenbescheid der Unterbringung (Einzug, Umzug, Tarifänderung, Auszug).
    "gebuehrenbescheid": {
        "title": "Gebührenbescheid Unterbringung",
        "subject": "Gebührenbescheid für die Benutzung der Unterkunft ({{ fee.reason }})",
        "body": [
            ("p", "für die Benutzung der Unterkunft {{ fee.shelter }}, {{ fee.place }}, durch {{ fee.person }} "
                  "setze ich nach der {{ fee.satzung }} für den Zeitraum {{ fee.period }} Gebühren fest. "
                  "Zahlungspflichtig ist {{ fee.payer }}."),
            ("h", "Gebühr"),
            ("p", "{{ fee.tariff }}; {{ fee.rule }}. Für einen vollen Monat beträgt die Gebühr {{ fee.monthly }}."),
            ("h", "Berechnung"),
            ("loop", "fee.lines"),
            ("p", "Summe dieses Bescheids: {{ fee.total }}"),
            ("h", "Fälligkeit und Zahlung"),
            ("loop", "fee.due_dates"),
            ("p", "Bitte überweisen Sie den Betrag unter Angabe des Kassenzeichens {{ fee.kassenzeichen }} an: "
                  "{{ fee.bank }}."),
            ("h", "Rechtsbehelfsbelehrung"),
            ("p", "{{ notice.legal_remedy }}"),
        ],
    },
    # --- Darlehen (#13): Bescheide aus dem Darlehenskonto, DIN 5008, mit Rechtsbehelfsbelehrung ---
    "darlehen_bewilligung": {
        "title": "Darlehen: Bewilligungsbescheid",
        "subject": "Bescheid über die Übernahme von Schulden ({{ loan.legal_basis }}) – Kassenzeichen {{ loan.kassenzeichen }}",
        "body": [
            ("p", "auf Ihren Antrag ergeht folgender Bescheid:"),
            ("h", "Entscheidung"),
            ("p", "Ihre Schulden werden in Höhe von {{ loan.amount }} als {{ loan.kind }} nach {{ loan.legal_basis }} "
                  "übernommen ({{ loan.purposes }}). Der Betrag wird direkt an {{ loan.payee }} "
                  "(IBAN {{ loan.payee_iban }}) überwiesen."),
            ("p", "{% if loan.rate %}Das Darlehen ist in {{ loan.instalments }} monatlichen Raten von {{ loan.rate }} "
                  "zurückzuzahlen, erstmals am {{ loan.first_due }}, zuletzt am {{ loan.last_due }}. Bitte geben Sie "
                  "bei jeder Zahlung das Kassenzeichen {{ loan.kassenzeichen }} an.{% endif %}"),
            ("h", "Begründung"),
            ("p", "Die Übernahme ist gerechtfertigt und notwendig, um den Verlust Ihrer Wohnung abzuwenden "
                  "({{ loan.legal_basis }}). Die Schulden werden in der Regel als Darlehen übernommen."),
            ("h", "Rechtsbehelfsbelehrung"),
            ("p", "{{ notice.legal_remedy }}"),
        ],
    },
    "darlehen_stundung": {
        "title": "Darlehen: Stundung",
        "subject": "Stundung Ihres Darlehens – Kassenzeichen {{ loan.kassenzeichen }}",
        "body": [
            ("p", "auf Ihren Antrag ergeht folgender Bescheid:"),
            ("h", "Entscheidung"),
            ("p", "Die Raten Ihres Darlehens (offen: {{ loan.open_amount }}) werden vom {{ loan.deferred_from }} "
                  "bis zum {{ loan.deferred_to }} gestundet. Die nächste Rate ist am {{ loan.next_due }} fällig; "
                  "alle folgenden Raten verschieben sich entsprechend."),
            ("p", "Die Stundung ist jederzeit widerruflich, insbesondere wenn sich Ihre wirtschaftlichen Verhältnisse "
                  "bessern."),
            ("h", "Begründung"),
            ("p", "Die sofortige Zahlung wäre für Sie mit einer erheblichen Härte verbunden; die Forderung wird durch "
                  "die Stundung nicht gefährdet."),
            ("h", "Rechtsbehelfsbelehrung"),
            ("p", "{{ notice.legal_remedy }}"),
        ],
    },
    "darlehen_niederschlagung": {
        "title": "Darlehen: Niederschlagung",
        "subject": "Ihr Darlehen – Kassenzeichen {{ loan.kassenzeichen }}",
        "body": [
            ("p", "wir teilen Ihnen mit, dass die offene Forderung von {{ loan.open_amount }} vorerst nicht "
                  "weiter eingezogen wird ({{ loan.write_off_kind }}e Niederschlagung{% if loan.review_on %}, "
                  "erneute Prüfung am {{ loan.review_on }}{% endif %})."),
            ("p", "Die Niederschlagung ist eine verwaltungsinterne Maßnahme. Die Forderung bleibt in voller Höhe "
                  "bestehen; Zahlungen sind weiterhin möglich und werden angerechnet."),
            ("h", "Hinweis"),
            ("p", "{{ notice.legal_remedy }}"),
        ],
    },
    "darlehen_erlass": {
        "title": "Darlehen: Erlass",
        "subject": "Erlass Ihrer Darlehensforderung – Kassenzeichen {{ loan.kassenzeichen }}",
        "body": [
            ("p", "auf Ihren Antrag ergeht folgender Bescheid:"),
            ("h", "Entscheidung"),
            ("p", "Die offene Forderung aus Ihrem Darlehen wird in Höhe von {{ loan.waived_amount }} erlassen. "
                  "Die Forderung erlischt damit."),
            ("h", "Begründung"),
            ("p", "Die Einziehung wäre nach Lage des Einzelfalles unbillig (§ 44 SGB II)."),
            ("h", "Rechtsbehelfsbelehrung"),
            ("p", "{{ notice.legal_remedy }}"),
        ],
    },
}


def _no_spacing(paragraph, after: float = 0) -> None:
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.0


def _run(paragraph, text: str, size: float | None = None, bold: bool = False, grey: bool = False,
         underline: bool = False):
    run = paragraph.add_run(text)
    if size:
        run.font.size = Pt(size)
    run.bold = bold or None
    run.underline = underline or None
    if grey:
        run.font.color.rgb = GREY
    return run


def _set_language(document) -> None:
    # German spelling and hyphenation in Word and LibreOffice.
    rpr = document.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "de-DE")
    rpr.append(lang)


def _page(document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    section.top_margin, section.bottom_margin = Mm(45), Mm(30)  # 45 mm: top of the address field (form B)
    section.header_distance, section.footer_distance = Mm(12), Mm(10)
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Arial")
    normal.font.size = Pt(11)
    _no_spacing(normal)
    _set_language(document)


def _letterhead(document) -> None:
    header = document.sections[0].header
    first = header.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(first, "{{ office.authority }}", size=14, bold=True)
    second = header.add_paragraph()
    second.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(second, "{{ office.name }}", size=11)
    footer = document.sections[0].footer
    lines = ["{{ office.return_address }}", "{{ office.contact }}",
             "{% if office.consultation_hours %}Sprechzeiten: {{ office.consultation_hours }}{% endif %}"]
    for n, text in enumerate(lines):
        paragraph = footer.paragraphs[0] if n == 0 else footer.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _no_spacing(paragraph)
        _run(paragraph, text, size=8, grey=True)


def _cell_width(cell, width) -> None:
    cell.width = width


def _address_and_info(document) -> None:
    # Address field (80 mm text width inside the 85 mm window) left, information block right (80 mm); 45 mm high.
    table = document.add_table(rows=1, cols=3)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    widths = (Mm(80), Mm(5), Mm(80))
    for column, cell, width in zip(table.columns, table.rows[0].cells, widths):
        column.width = width  # the grid (LibreOffice) and the cell (Word) both need it
        _cell_width(cell, width)
    row = table.rows[0]
    row.height, row.height_rule = Mm(45), WD_ROW_HEIGHT_RULE.AT_LEAST
    address = row.cells[0]
    back = address.paragraphs[0]
    _no_spacing(back, after=6)
    _run(back, "{{ office.return_address }}", size=7, underline=True)
    recipient = address.add_paragraph()
    _no_spacing(recipient)
    _run(recipient, "{{ recipient.address }}")
    info = row.cells[2]
    for n, (label, value) in enumerate(INFO_BLOCK):
        paragraph = info.paragraphs[0] if n == 0 else info.add_paragraph()
        _no_spacing(paragraph)
        # A hanging indent keeps a long value (office name, e-mail) in the value column when it wraps.
        paragraph.paragraph_format.left_indent = Mm(26)
        paragraph.paragraph_format.first_line_indent = -Mm(26)
        paragraph.paragraph_format.tab_stops.add_tab_stop(Mm(26))
        _run(paragraph, f"{label}\t", size=8, grey=True)
        _run(paragraph, value, size=9)


def _body(document, spec: dict) -> None:
    for _ in range(2):
        _no_spacing(document.add_paragraph())
    subject = document.add_paragraph()
    _no_spacing(subject, after=22)
    _run(subject, spec["subject"], bold=True)
    salutation = document.add_paragraph()
    _no_spacing(salutation, after=11)
    _run(salutation, "{{ recipient.salutation }}")
    body = spec["body"]
    for n, (kind, text) in enumerate(body):
        if kind == "loop":  # one bullet per item of a list placeholder (docxtpl paragraph loop)
            for part, after in ((f"{{%p for zeile in {text} %}}", 0), ("{{ zeile }}", 2), ("{%p endfor %}", 9)):
                paragraph = document.add_paragraph(style="List Bullet" if part == "{{ zeile }}" else None)
                _no_spacing(paragraph, after=after)
                _run(paragraph, part)
            continue
        if kind == "li":
            paragraph = document.add_paragraph(style="List Bullet")
            last = n + 1 == len(body) or body[n + 1][0] != "li"
            _no_spacing(paragraph, after=11 if last else 2)
            _run(paragraph, text)
            continue
        paragraph = document.add_paragraph()
        if kind == "b":
            paragraph.paragraph_format.left_indent = Mm(10)
            last = n + 1 == len(body) or body[n + 1][0] != "b"
            _no_spacing(paragraph, after=11 if last else 4)
        elif kind == "h":
            _no_spacing(paragraph, after=4)
            paragraph.paragraph_format.keep_with_next = True
        else:
            _no_spacing(paragraph, after=11)
        _run(paragraph, text, bold=kind in ("b", "h"))
    closing = document.add_paragraph()
    _no_spacing(closing, after=0)
    closing.paragraph_format.space_before = Pt(11)
    closing.paragraph_format.keep_with_next = True
    _run(closing, "Mit freundlichen Grüßen")
    on_behalf = document.add_paragraph()
    _no_spacing(on_behalf, after=33)
    on_behalf.paragraph_format.keep_with_next = True
    _run(on_behalf, "Im Auftrag")
    signature = document.add_paragraph()
    _no_spacing(signature)
    _run(signature, "{{ clerk.name }}")


def build(code: str) -> bytes:
    spec = TEMPLATES[code]
    document = Document()
    _page(document)
    _letterhead(document)
    _address_and_info(document)
    _body(document, spec)
    props = document.core_properties
    props.title, props.subject, props.author = spec["title"], "", "Fachstelle"
    props.last_modified_by, props.comments, props.keywords = "Fachstelle", "", ""
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return normalise_zip(buffer.getvalue())


def normalise_zip(data: bytes) -> bytes:
    """The same bytes on every run: fixed entry times and attributes (python-docx stamps the current time)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="nur vergleichen, nichts schreiben")
    args = parser.parse_args(argv)
    differing = []
    for code in TEMPLATES:
        data = build(code)
        path = args.out / f"{code}.docx"
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                differing.append(path.name)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"geschrieben: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if differing:
        print("weicht ab (scripts/make_letter_templates.py ausführen): " + ", ".join(differing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
