"""Letter templates: the upload check (German messages naming placeholder and paragraph) and the sandbox.

Every template-injection payload is refused by the upload check, and rendered without the check it is
refused again or prints nothing of Python's insides; nothing is ever executed.
"""
from __future__ import annotations

import io
import zipfile

import pytest

from app.letters.context import sample_context
from app.letters.render import TemplateProblem, render_docx, used_placeholders, validate_template
from tests.unit.letter_docs import docx_with, text_of

PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('touch /tmp/fachstelle-pwned').read() }}",
    "{{ lipsum }}",
    "{{ self._TemplateReference__context }}",
    "{{ self }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ request.environ }}",
    "{{ request.application.__globals__.__builtins__.__import__('os') }}",
    "{{ ''|attr('__class__') }}",
    "{{ recipient|attr('__class__') }}",
    "{{ recipient.name|attr('__class__')|attr('__mro__') }}",
    "{{ recipient.name.__class__ }}",
    "{{ recipient['__class__'] }}",
    "{{ recipient.items() }}",
    "{{ recipient.name.format(recipient) }}",
    "{{ '{0.__class__}'.format(recipient) }}",
    "{{ recipient.name|map(attribute='__class__')|list }}",
    "{{ recipient.address_lines|selectattr('__class__')|list }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ range(10**9)|list }}",
    "{{ 'a' * 100000000 }}",
    "{{ 10**10000000 }}",
    "{{ (10**64)**64 }}",
    "{{ 'x'|center(1000000000) }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{% extends 'base.html' %}",
    "{% set x = recipient.update({'name': 'X'}) %}{{ x }}",
    "{% macro m() %}{{ caller() }}{% endmacro %}",
    "{% autoescape false %}{{ recipient.name }}{% endautoescape %}",
    "{{ recipient.name|safe }}",
    "{% for a in recipient.address_lines %}{% for b in recipient.address_lines %}"
    "{% for c in recipient.address_lines %}{{ c }}{% endfor %}{% endfor %}{% endfor %}",
    "{% for x in recipient.name %}{{ x }}{% endfor %}",
    "{{ recipient.name.upper }}",
    "{{ loop.__class__ }}",
]
LEAKS = ("class", "subclasses", "function", "module", "<", "globals", "builtin", "environ", "uid=")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_is_refused_on_upload(payload):
    problems = validate_template(docx_with("Vorher", payload, "Nachher"))
    assert problems, payload
    assert all(p.startswith("Hauptteil, Absatz 2") for p in problems), problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_without_the_check_is_refused_or_harmless(payload, tmp_path):
    # render_docx(checked=False) is the sandbox alone: the template never went through the upload check.
    try:
        text = text_of(render_docx(docx_with(payload), sample_context(), checked=False))
    except TemplateProblem as exc:
        assert exc.message
        return
    assert not any(leak in text for leak in LEAKS), text


def test_pwned_file_never_appears(tmp_path):
    import os
    assert not os.path.exists("/tmp/fachstelle-pwned")


@pytest.mark.parametrize(("paragraph", "expected"), [
    ("{{ recipient.nmae }}", "Hauptteil, Absatz 2 („{{ recipient.nmae }}“): unbekannter Platzhalter "
                             "„recipient.nmae“. Meinten Sie „recipient.name“?"),
    ("Termin: {{ termin }}", "Hauptteil, Absatz 2 („Termin: {{ termin }}“): unbekannter Platzhalter „termin“."),
    ("{{ recipient }}", "Hauptteil, Absatz 2 („{{ recipient }}“): „recipient“ ist eine Gruppe; bitte einen "
                        "Platzhalter daraus verwenden, z. B. „recipient.salutation_word“."),
    ("{{ recipient.name }", "Hauptteil, Absatz 2 („{{ recipient.name }“): Syntaxfehler: eine geschweifte Klammer "
                            "zu viel oder „{{“ nicht geschlossen (Jinja: unexpected '}')."),
    ("{% if recipient.name %}offen", "Hauptteil, Absatz 2 („{% if recipient.name %}offen“): Syntaxfehler: ein Block "
                                     "ist nicht geschlossen (z. B. fehlt {% endif %} oder {% endfor %}) (Jinja: "
                                     "Unexpected end of template. Jinja was looking for the following tags: "
                                     "'elif' or 'else' or 'endif'. The innermost block that needs to be closed "
                                     "is 'if'.)."),
], ids=["typo", "unknown", "group", "unclosed-print", "unclosed-block"])
def test_german_message_names_placeholder_and_paragraph(paragraph, expected):
    assert validate_template(docx_with("Sehr geehrte Damen und Herren,", paragraph)) == [expected]


def test_problems_in_header_footer_table_and_properties_are_found():
    data = docx_with("{{ recipient.salutation }}", header="{{ kopf }}", footer="{{ office.fusszeile }}",
                     table="{{ case.akte }}", title="{{ titel }}")
    problems = validate_template(data)
    assert any(p.startswith("Kopfzeile 1") and "„kopf“" in p for p in problems), problems
    assert any(p.startswith("Fußzeile 1") and "„office.fusszeile“" in p for p in problems), problems
    assert any(p.startswith("Hauptteil") and "„case.akte“" in p for p in problems), problems
    assert any(p.startswith("Dokumenteigenschaft „title“") and "„titel“" in p for p in problems), problems


def test_a_good_template_renders_the_context_escaped():
    data = docx_with("{{ recipient.salutation }}", "{% for line in recipient.address_lines %}{{ line }}|{% endfor %}",
                     "{% if case.court %}Gericht: {{ case.court|upper }}{% endif %}", header="{{ office.authority }}")
    assert validate_template(data) == []
    context = sample_context()
    context["recipient"]["salutation"] = "Sehr geehrte Frau Müller & <Söhne>,"
    text = text_of(render_docx(data, context))
    assert "Sehr geehrte Frau Müller & <Söhne>," in text
    assert "Herrn|Dr. Günther Wonlos|c/o Maria Muster|Lagesche Str. 1|33102 Paderborn|" in text
    assert "Gericht: AMTSGERICHT PADERBORN" in text and "Stadt Paderborn" in text
    assert used_placeholders(data) == {"recipient.salutation", "recipient.address_lines", "case.court",
                                       "office.authority"}


def test_line_breaks_and_control_characters_in_values():
    data = docx_with("{{ notice.reasons }}")
    context = sample_context()
    context["notice"]["reasons"] = "Erstens.\nZweitens.\x07\x0c\x00 Ende"
    rendered = render_docx(data, context)
    xml = zipfile.ZipFile(io.BytesIO(rendered)).read("word/document.xml").decode()
    assert "Erstens.</w:t><w:br/>" in xml and "Zweitens. Ende" in xml


def test_a_missing_value_stops_the_letter_naming_all_missing():
    data = docx_with("{{ appointment.date }} um {{ appointment.time }}", "{{ notice.legal_remedy }}")
    context = sample_context()
    from app.letters.placeholders import Missing
    context["appointment"]["date"] = Missing("Termin: Datum")
    context["appointment"]["time"] = Missing("Termin: Uhrzeit")
    context["notice"]["legal_remedy"] = Missing("Rechtsbehelfsbelehrung")
    with pytest.raises(TemplateProblem) as caught:
        render_docx(data, context)
    assert [p.id for p in caught.value.problems] == ["letter.E020"] * 3
    assert caught.value.lines == ["Für diesen Brief fehlt: Termin: Datum.",
                                  "Für diesen Brief fehlt: Termin: Uhrzeit.",
                                  "Für diesen Brief fehlt: Rechtsbehelfsbelehrung."]


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "Die Datei ist leer."),
    (b"%PDF-1.4 kein Word", "Die Datei ist keine Word-Datei (.docx)."),
    (b"PK\x03\x04 kaputt", "Die Datei ist keine Word-Datei (.docx)."),
    (b"x" * (5 * 1024 * 1024 + 1), "Die Datei ist zu groß (5.0 MB; höchstens 5 MB)."),
], ids=["empty", "pdf", "broken-zip", "too-big"])
def test_not_a_docx_is_refused(data, expected):
    assert validate_template(data) == [expected]


def _rezip(data: bytes, extra: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, (replace or {}).get(info.filename, source.read(info.filename)))
        for name, blob in (extra or {}).items():
            target.writestr(name, blob)
    return out.getvalue()


def test_macros_are_refused():
    data = _rezip(docx_with("Text"), extra={"word/vbaProject.bin": b"\x00" * 10})
    assert validate_template(data) == ["Vorlagen mit Makros (.docm) werden nicht angenommen; bitte als .docx "
                                       "ohne Makros speichern."]


def test_zip_bomb_is_refused_before_opening():
    data = _rezip(docx_with("Text"), extra={"word/media/bomb.bin": b"\x00" * (60 * 1024 * 1024)})
    assert len(data) < 5 * 1024 * 1024
    assert validate_template(data) == ["Die Word-Datei ist entpackt zu groß."]


def test_zip_without_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    assert validate_template(out.getvalue()) == ["Die Datei ist keine Word-Datei (.docx)."]


def test_broken_document_xml_is_refused():
    data = _rezip(docx_with("Text"), replace={"word/document.xml": b"<w:document><kaputt"})
    assert validate_template(data) == ["Die Word-Datei lässt sich nicht öffnen (beschädigt oder kein Word-Dokument)."]


def test_placeholder_split_over_runs_is_understood():
    # Word splits text into runs (spelling marks, formatting); docxtpl joins {{ … }} again.
    from docx import Document
    document = Document()
    paragraph = document.add_paragraph()
    for piece in ("{{ recip", "ient.sal", "utation }}"):
        paragraph.add_run(piece).bold = piece.startswith("ient")
    buffer = io.BytesIO()
    document.save(buffer)
    assert validate_template(buffer.getvalue()) == []
    assert "Sehr geehrter Herr Dr. Wonlos," in text_of(render_docx(buffer.getvalue(), sample_context()))


@pytest.mark.parametrize(("paragraph", "needed"), [
    ("{{ appointment.date }}", {"appointment.date"}),
    ("{% if office.consultation_hours %}Sprechzeiten: {{ office.consultation_hours }}{% endif %}", set()),
    ("{{ appointment.date|default('nach Vereinbarung') }}", set()),
    ("{{ case.court if case.court else 'das Amtsgericht' }}", set()),
    ("{{ case.court or 'das Amtsgericht' }}", set()),
    ("{% if recipient.name %}{{ appointment.time }}{% endif %}", {"appointment.time"}),
    ("{% if case.court %}{% else %}{{ case.court }}{% endif %}", {"case.court"}),
    ("{% for line in recipient.address_lines %}{{ line }}{% endfor %}", {"recipient.address_lines"}),
    ("{% if case.court == 'AG' or case.court is defined %}ja{% endif %}", set()),
], ids=["printed", "if-guard", "default", "conditional", "or", "other-guard", "else-branch", "loop", "compare"])
def test_needed_placeholders_are_those_printed_unguarded(paragraph, needed):
    from app.letters.render import needed_placeholders
    data = docx_with(paragraph)
    assert validate_template(data) == []
    assert needed_placeholders(data) == needed


def test_a_guarded_missing_value_does_not_stop_the_letter():
    from app.letters.placeholders import Missing
    data = docx_with("{% if office.consultation_hours %}Sprechzeiten: {{ office.consultation_hours }}{% endif %}Ende",
                     "{{ appointment.date|default('nach Vereinbarung') }}")
    context = sample_context()
    context["office"]["consultation_hours"] = Missing("Sprechzeiten")
    context["appointment"]["date"] = Missing("Termin: Datum")
    text = text_of(render_docx(data, context))
    assert "Ende" in text and "Sprechzeiten" not in text and "nach Vereinbarung" in text
