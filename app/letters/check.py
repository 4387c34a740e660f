"""The upload check of a letter template: file, syntax and an allow-list of what templates may contain.

A template is Word text with placeholders (``{{ recipient.name }}``) and, at most, ``{% if %}`` and
``{% for %}`` over the list placeholders. Everything else is refused with a German message naming the
placeholder and the paragraph: unknown names, function calls, attribute tricks, imports, ``{% set %}``,
macros, filters outside a short list, loops over anything but a list placeholder. The check sees the
same text as the renderer: docxtpl's ``patch_xml`` output with one paragraph per line, so a Jinja line
number is a paragraph number.
"""
from __future__ import annotations

import contextlib
import difflib
import functools
import io
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jinja2 import Environment, TemplateSyntaxError, nodes

from ..problems import Problem, Problems, Source
from .placeholders import LIST_PLACEHOLDERS, PLACEHOLDERS

if TYPE_CHECKING:  # docxtpl (with python-docx and lxml) is imported when a template is opened, not at start
    from docxtpl import DocxTemplate

MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # a zip bomb is refused before it is opened
MAX_ZIP_ENTRIES = 2000
MAX_LOOP_DEPTH = 2
MACRO_TYPES = ("macroEnabled", "vbaProject")

# Formatting only: no filter here reaches attributes (attr, map, selectattr, groupby, sort) or markup
# (safe, xmlattr), or multiplies text (center, indent, replace).
ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d", "join", "first",
                             "last", "length", "count", "e", "escape", "string", "truncate", "wordcount"})
ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "number", "string", "true", "false", "eq", "ne",
                           "equalto", "lt", "gt", "le", "ge", "in"})
LOOP_ATTRIBUTES = frozenset({"index", "index0", "first", "last", "length", "revindex", "revindex0"})
_EXPRESSIONS = (nodes.Const, nodes.TemplateData, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
                nodes.Neg, nodes.Pos, nodes.Concat, nodes.CondExpr, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div,
                nodes.FloorDiv, nodes.Mod, nodes.Pow, nodes.Tuple, nodes.List, nodes.Keyword, nodes.Output,
                nodes.If, nodes.Template)
_STATEMENT_NAMES = {
    nodes.Extends: "{% extends %}", nodes.Include: "{% include %}", nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}", nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %}", nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}",
    nodes.Block: "{% block %}", nodes.With: "{% with %}", nodes.Scope: "{% with %}",
    nodes.EvalContextModifier: "{% autoescape %}", nodes.ScopedEvalContextModifier: "{% autoescape %}",
    nodes.Call: "Funktionsaufrufe", nodes.Slice: "Ausschnitte [a:b]", nodes.Dict: "Wörterbücher {…}",
    nodes.ExprStmt: "{% do %}", nodes.Continue: "{% continue %}", nodes.Break: "{% break %}",
}


class TemplateProblem(Problems):
    """A template cannot be used or a letter cannot be made.

    ``problems`` are ``Problem`` values (ids ``letter.E…``, source: part of the template and paragraph);
    ``lines`` are what a page shows, one German sentence each (at most ``limit``, then "… und N weitere.");
    ``message`` is the lines joined."""

    def __init__(self, problems: Problem | list[Problem], limit: int | None = None):
        listed = [problems] if isinstance(problems, Problem) else list(problems)
        shown = listed if limit is None else listed[:limit]
        self.lines = [p.sentence() for p in shown]
        if len(listed) > len(shown):
            self.lines.append(f"… und {len(listed) - len(shown)} weitere.")
        self.message = "\n".join(self.lines)
        self.problems, self.heading = listed, "Die Vorlage enthält Fehler:"
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        return self.message

    @classmethod
    def of_letter(cls, label: str, exc: Exception) -> TemplateProblem:
        """The problems of one letter of a series, each named by the letter ("Brief 3: …")."""
        if isinstance(exc, TemplateProblem):
            return cls([Problem(p.id, p.sentence(), Source(label), p.hint, p.level) for p in exc.problems])
        return cls(Problem("letter.E023", getattr(exc, "message", None) or str(exc), Source(label)))


_PARSER = Environment()  # parsing only; letters render in render.ENV


# --- the template's text, as Jinja sees it ------------------------------------------------------------

@dataclass(frozen=True)
class TemplateSource:
    where: str  # "Hauptteil", "Kopfzeile 1", "Fußzeile 1", "Fußnoten", "Dokumenteigenschaft „title“"
    text: str
    partname: str = ""  # "/word/document.xml"; empty for properties
    paragraphs: bool = True  # one paragraph per line (False: a plain property string)

    def source(self, lineno: int | None) -> Source:
        """Part, paragraph and its beginning for a Jinja line number:
        str() reads 'Hauptteil, Absatz 12 („Termin: {{ appointment.dat …“)'."""
        if not self.paragraphs or not lineno:
            return Source(self.where)
        lines = self.text.splitlines()
        snippet = re.sub(r"<[^>]+>", "", lines[lineno - 1]).strip() if 0 < lineno <= len(lines) else ""
        snippet = snippet if len(snippet) <= 60 else snippet[:57] + "…"
        return Source(self.where, paragraph=max(lineno - 1, 1), excerpt=snippet or None)

    def locate(self, lineno: int | None) -> str:
        return str(self.source(lineno))


def _jinja_text(tpl: DocxTemplate, xml: str) -> str:
    # The same steps as docxtpl's render_xml_part: patched XML, every paragraph on its own line.
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))


def template_sources(tpl: DocxTemplate) -> list[TemplateSource]:
    tpl.init_docx()
    sources = [TemplateSource("Hauptteil", _jinja_text(tpl, tpl.get_xml()), str(tpl.docx.part.partname))]
    for uri, label in ((tpl.HEADER_URI, "Kopfzeile"), (tpl.FOOTER_URI, "Fußzeile")):
        for n, (_, part) in enumerate(tpl.get_headers_footers(uri), start=1):
            sources.append(TemplateSource(f"{label} {n}", _jinja_text(tpl, tpl.get_part_xml(part)),
                                          str(part.partname)))
    for part in tpl.docx.part.package.parts:
        if part.content_type.endswith("wordprocessingml.footnotes+xml"):
            blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
            sources.append(TemplateSource("Fußnoten", _jinja_text(tpl, blob), str(part.partname)))
    props = tpl.docx.core_properties
    for name in ("author", "comments", "identifier", "language", "subject", "title"):
        value = getattr(props, name) or ""
        if "{" in value:
            sources.append(TemplateSource(f"Dokumenteigenschaft „{name}“", value, paragraphs=False))
    return sources


# --- the check ----------------------------------------------------------------------------------------

def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, _known_names(), n=1, cutoff=0.6)
    return f" Meinten Sie „{close[0]}“?" if close else ""


@functools.cache
def _known_names() -> list[str]:
    return [*PLACEHOLDERS, *(f"{g}.{k}" for g, keys in PLACEHOLDERS.items() for k in keys)]


class _Checker:
    """Walk a template's syntax tree and allow only what a letter needs (an allow-list, not a block-list)."""

    def __init__(self, source: TemplateSource):
        self.source = source
        self.problems: list[Problem] = []
        self.used: set[str] = set()  # every placeholder named
        self.needed: set[str] = set()  # printed without an {% if %} or |default that guards it
        self._printing = True
        self._guards: frozenset[str] = frozenset()

    @contextlib.contextmanager
    def _mode(self, printing: bool | None = None, guards: frozenset[str] = frozenset()):
        saved = self._printing, self._guards
        self._printing = saved[0] if printing is None else printing
        self._guards = saved[1] | guards
        try:
            yield
        finally:
            self._printing, self._guards = saved

    def _tested(self, node) -> frozenset[str]:
        """The placeholders a condition looks at: inside its branch they are known to be there."""
        found = [node, *node.find_all((nodes.Getattr, nodes.Getitem))]
        return frozenset(_render_access(n) for n in found
                         if isinstance(n, (nodes.Getattr, nodes.Getitem)) and isinstance(n.node, nodes.Name))

    def _guarded(self, node, local: frozenset[str], depth: int) -> bool:
        """Visit the parts of conditions, defaults and comparisons that are looked at but not printed."""
        if isinstance(node, nodes.If):
            with self._mode(printing=False):
                self.visit(node.test, local, depth)
            with self._mode(guards=self._tested(node.test)):
                for child in node.body:
                    self.visit(child, local, depth)
            for child in [*node.elif_, *node.else_]:
                self.visit(child, local, depth)
        elif isinstance(node, nodes.CondExpr):
            with self._mode(printing=False):
                self.visit(node.test, local, depth)
            with self._mode(guards=self._tested(node.test)):
                self.visit(node.expr1, local, depth)
            if node.expr2 is not None:
                self.visit(node.expr2, local, depth)
        elif isinstance(node, (nodes.Test, nodes.Compare, nodes.Not)):
            with self._mode(printing=False):
                for child in node.iter_child_nodes():
                    self.visit(child, local, depth)
        elif isinstance(node, nodes.Or):
            with self._mode(printing=False):
                self.visit(node.left, local, depth)
            self.visit(node.right, local, depth)
        elif isinstance(node, nodes.Filter) and node.name in ("default", "d"):
            with self._mode(printing=False):
                self.visit(node.node, local, depth)
            for child in [*node.args, *node.kwargs]:
                self.visit(child, local, depth)
        else:
            return False
        return True

    def _use(self, name: str) -> None:
        self.used.add(name)
        if self._printing and name not in self._guards:
            self.needed.add(name)

    def refuse(self, node, id: str, text: str) -> None:
        lineno = getattr(node, "lineno", None) or next(
            (n.lineno for n in node.find_all(nodes.Node) if getattr(n, "lineno", None)), None)
        problem = Problem(id, text, self.source.source(lineno))
        if problem not in self.problems:
            self.problems.append(problem)

    def visit(self, node, local: frozenset[str], depth: int) -> None:
        kind = type(node)
        if kind is nodes.Scope and node.body and isinstance(node.body[0], nodes.ScopedEvalContextModifier):
            kind = nodes.ScopedEvalContextModifier  # {% autoescape %} is parsed as a scope around it
        if kind in _STATEMENT_NAMES:
            self.refuse(node, "letter.E011", f"{_STATEMENT_NAMES[kind]} ist in Briefvorlagen nicht erlaubt "
                              "(Vorlagen enthalten nur Platzhalter, {% if %} und {% for %}).")
            return
        if isinstance(node, nodes.Name):
            self.name(node, local)
            return
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            self.access(node, local, depth)
            return
        if isinstance(node, nodes.Filter):
            if node.name not in ALLOWED_FILTERS:
                self.refuse(node, "letter.E012", f"Der Filter „{node.name}“ ist in Briefvorlagen nicht erlaubt "
                                  f"(erlaubt: {', '.join(sorted(ALLOWED_FILTERS))}).")
                return
        elif isinstance(node, nodes.Test):
            if node.name not in ALLOWED_TESTS:
                self.refuse(node, "letter.E013", f"Die Prüfung „is {node.name}“ ist in Briefvorlagen nicht erlaubt.")
                return
        elif isinstance(node, nodes.For):
            self.loop(node, local, depth)
            return
        elif not isinstance(node, _EXPRESSIONS):
            self.refuse(node, "letter.E014", f"Dieser Ausdruck ist in Briefvorlagen nicht erlaubt ({kind.__name__}).")
            return
        if self._guarded(node, local, depth):
            return
        for child in node.iter_child_nodes():
            self.visit(child, local, depth)

    def name(self, node: nodes.Name, local: frozenset[str]) -> None:
        if node.ctx != "load" or node.name in local:
            return
        if node.name in PLACEHOLDERS:
            self.refuse(node, "letter.E016", f"„{node.name}“ ist eine Gruppe; bitte einen Platzhalter daraus verwenden, "
                              f"z. B. „{node.name}.{next(iter(PLACEHOLDERS[node.name]))}“.")
            return
        self.refuse(node, "letter.E015", f"unbekannter Platzhalter „{node.name}“.{_suggest(node.name)}")

    def access(self, node, local: frozenset[str], depth: int) -> None:
        key = node.attr if isinstance(node, nodes.Getattr) else \
            node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None
        if key is not None and key.startswith("_"):
            self.refuse(node, "letter.E017", f"Zugriff auf „{key}“ ist in Briefvorlagen nicht erlaubt.")
            return
        target = node.node
        if isinstance(target, nodes.Name) and target.name in PLACEHOLDERS and target.name not in local:
            if key is None:
                self.refuse(node, "letter.E017", f"„{target.name}[…]“: bitte den Platzhalter mit Namen schreiben.")
            elif key not in PLACEHOLDERS[target.name]:
                self.refuse(node, "letter.E015", f"unbekannter Platzhalter „{target.name}.{key}“.{_suggest(f'{target.name}.{key}')}")
            else:
                self._use(f"{target.name}.{key}")
            return
        if isinstance(target, nodes.Name) and target.name == "loop" and "loop" in local:
            if key not in LOOP_ATTRIBUTES:
                self.refuse(node, "letter.E017", f"„loop.{key}“ ist in Briefvorlagen nicht erlaubt.")
            return
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, int):
            if isinstance(target, nodes.Getattr) and isinstance(target.node, nodes.Name):
                if f"{target.node.name}.{target.attr}" in LIST_PLACEHOLDERS:
                    self.visit(target, local, depth)  # recipient.address_lines[0]
                    return
        shown = _render_access(node)
        if isinstance(target, nodes.Name) and target.name in local:
            self.refuse(node, "letter.E017", f"„{shown}“: eine Zeile hat keine Bestandteile; bitte nur „{target.name}“ ausgeben.")
        else:
            self.refuse(node, "letter.E015", f"unbekannter Platzhalter „{shown}“.{_suggest(shown)}")

    def loop(self, node: nodes.For, local: frozenset[str], depth: int) -> None:
        if depth >= MAX_LOOP_DEPTH:
            self.refuse(node, "letter.E018", f"Schleifen dürfen höchstens {MAX_LOOP_DEPTH}-fach verschachtelt sein.")
            return
        if node.recursive:
            self.refuse(node, "letter.E018", "Rekursive Schleifen sind in Briefvorlagen nicht erlaubt.")
            return
        it = node.iter
        is_named = isinstance(it, nodes.Getattr) and isinstance(it.node, nodes.Name)
        name = f"{it.node.name}.{it.attr}" if is_named else None
        if name not in LIST_PLACEHOLDERS:
            self.refuse(node, "letter.E018", "{% for %} ist nur über Listen-Platzhalter erlaubt: "
                              f"{', '.join(sorted(LIST_PLACEHOLDERS))}.")
            return
        self._use(name)
        targets = {n.name for n in node.target.find_all(nodes.Name)}
        if isinstance(node.target, nodes.Name):
            targets.add(node.target.name)
        inner = local | targets | {"loop"}
        for child in node.body:
            self.visit(child, inner, depth + 1)
        if node.test is not None:
            self.visit(node.test, inner, depth + 1)
        for child in node.else_:
            self.visit(child, local, depth)


def allow_list_problem(tree: nodes.Template) -> str | None:
    """The first thing in a parsed template that the allow-list refuses (the renderer's last line of defence)."""
    checker = _Checker(TemplateSource("Vorlage", "", paragraphs=False))
    checker.visit(tree, frozenset(), 0)
    return checker.problems[0].sentence() if checker.problems else None


def _render_access(node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_render_access(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        arg = node.arg.value if isinstance(node.arg, nodes.Const) else "…"
        return f"{_render_access(node.node)}[{arg!r}]"
    return "…"


_SYNTAX_HINTS = (
    ("unexpected end of template", "ein Block ist nicht geschlossen (z. B. fehlt {% endif %} oder {% endfor %})"),
    ("unexpected '}'", "eine geschweifte Klammer zu viel oder „{{“ nicht geschlossen"),
    ("unexpected char", "ein unerwartetes Zeichen in einem Platzhalter"),
    ("expected token 'end of print statement'", "ein Platzhalter ist nicht mit „}}“ geschlossen"),
    ("expected token 'end of statement block'", "ein Block ist nicht mit „%}“ geschlossen"),
    ("unknown tag", "eine unbekannte Anweisung in {% … %}"),
    ("encountered unknown tag", "eine unbekannte Anweisung in {% … %}"),
)


def _syntax_problem(source: TemplateSource, exc: TemplateSyntaxError) -> Problem:
    text = exc.message or str(exc)
    hint = next((german for english, german in _SYNTAX_HINTS if english in text.lower()), None)
    german = hint or "die Platzhalter-Schreibweise ist fehlerhaft"
    return Problem("letter.E010", f"Syntaxfehler: {german} (Jinja: {text}).", source.source(exc.lineno))


def check_sources(sources: list[TemplateSource]) -> tuple[list[Problem], set[str], set[str]]:
    """Syntax and allow-list check of every part: the problems, the placeholders named, those needed.

    A placeholder is needed when it is printed (or looped over) without an ``{% if %}`` on it or a
    ``|default``; a letter whose context lacks a needed value is refused before rendering."""
    problems: list[Problem] = []
    used: set[str] = set()
    needed: set[str] = set()
    for source in sources:
        try:
            tree = _PARSER.parse(source.text)
        except TemplateSyntaxError as exc:
            problems.append(_syntax_problem(source, exc))
            continue
        checker = _Checker(source)
        checker.visit(tree, frozenset(), 0)
        problems.extend(checker.problems)
        used |= checker.used
        needed |= checker.needed
    return problems, used, needed


def file_problems(data: bytes) -> list[Problem]:
    if not data:
        return [Problem("letter.E001", "Die Datei ist leer.")]
    if len(data) > MAX_TEMPLATE_BYTES:
        return [Problem("letter.E002", f"Die Datei ist zu groß ({len(data) / 1024 / 1024:.1f} MB; höchstens "
                                       f"{MAX_TEMPLATE_BYTES // 1024 // 1024} MB).")]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        names = {i.filename for i in infos}
        content_types = archive.read("[Content_Types].xml").decode("utf-8", "replace") \
            if "[Content_Types].xml" in names else ""
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return [Problem("letter.E003", "Die Datei ist keine Word-Datei (.docx).")]
    if "word/document.xml" not in names or not content_types:
        return [Problem("letter.E003", "Die Datei ist keine Word-Datei (.docx).")]
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        return [Problem("letter.E004", "Die Word-Datei ist entpackt zu groß.")]
    if any(marker in content_types for marker in MACRO_TYPES) or any("vbaProject" in n for n in names):
        return [Problem("letter.E005", "Vorlagen mit Makros (.docm) werden nicht angenommen; "
                                       "bitte als .docx ohne Makros speichern.")]
    return []


def open_template(data: bytes) -> DocxTemplate:
    from docxtpl import DocxTemplate
    tpl = DocxTemplate(io.BytesIO(data))
    tpl.init_docx()
    return tpl
