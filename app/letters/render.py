"""Render .docx letter templates with docxtpl in a Jinja sandbox.

Rendering runs in Jinja's ``ImmutableSandboxedEnvironment`` with no globals, strict undefined values, a
short list of formatting filters and bounded repetition, so even a template that slipped past the upload
check (check.py) cannot reach Python objects (template injection) or grow without bound. Text values
are XML-escaped (autoescape) and stripped of control characters.
"""
from __future__ import annotations

import functools
import hashlib
import io
import re

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .check import (ALLOWED_FILTERS, ALLOWED_TESTS, TemplateProblem, allow_list_problem, check_sources, file_problems,
                    open_template, template_sources)
from ..problems import Problem, Source
from .context import sample_context
from .placeholders import MissingValueError, missing_values

MAX_SEQUENCE = 10_000  # "x" * n and [..] * n stay below this many items


class LetterEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox every letter renders in: no globals, strict undefined, bounded repetition, cached compiles."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=True)
        self.globals.clear()  # no range, cycler, lipsum, joiner, namespace, dict
        self.filters = {name: f for name, f in self.filters.items() if name in ALLOWED_FILTERS}
        self.tests = {name: t for name, t in self.tests.items() if name in ALLOWED_TESTS}
        # docxtpl compiles the same XML for every letter of a template version: compile once.
        self._compiled = functools.lru_cache(maxsize=256)(
            lambda source: ImmutableSandboxedEnvironment.from_string(self, source))

    def from_string(self, source, globals=None, template_class=None):
        if globals is None and template_class is None and isinstance(source, str):
            return self._compiled(source)
        return super().from_string(source, globals, template_class)

    def _parse(self, source, name, filename):
        # The upload check runs again on everything compiled here: a template that never went through the
        # upload (or a future code path) still cannot use more than the allow-list.
        tree = super()._parse(source, name, filename)
        problem = allow_list_problem(tree)
        if problem:
            raise SecurityError(problem)
        return tree

    def call_binop(self, context, operator, left, right):
        if operator == "**" and (not _is_number(left) or not _is_number(right) or abs(right) > 64
                                 or abs(left) > 10**12):
            raise SecurityError("Potenzen sind in Briefvorlagen nur klein erlaubt.")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SEQUENCE:
                    raise SecurityError("Wiederholungen sind in Briefvorlagen nur klein erlaubt.")
        return super().call_binop(context, operator, left, right)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


ENV = LetterEnvironment()


def validate_template(data: bytes) -> list[str]:
    """Every problem of an uploaded template as the German line a page shows (empty: it can be used)."""
    return [problem.sentence() for problem in template_problems(data)]


def template_problems(data: bytes) -> list[Problem]:
    """Every problem of an uploaded template (an empty list: the template can be used).

    1. The file is a .docx without macros, not too big, not a zip bomb.
    2. Every part (text, headers, footers, footnotes, properties) is valid Jinja and uses only known
       placeholders, ``{% if %}``, ``{% for %}`` over list placeholders and a few formatting filters.
    3. A trial letter with the sample context renders and opens again as a Word file.
    """
    problems = file_problems(data)
    if problems:
        return problems
    try:
        tpl = open_template(data)
        sources = template_sources(tpl)
    except Exception:  # noqa: BLE001 - python-docx raises many kinds for a broken package
        return [Problem("letter.E006", "Die Word-Datei lässt sich nicht öffnen (beschädigt oder kein Word-Dokument).")]
    problems, _, _ = check_sources(sources)
    if problems:
        return problems
    try:
        result = render_docx(data, sample_context(), checked=False)
        open_template(result)
    except TemplateProblem as exc:
        return exc.problems
    except Exception as exc:  # noqa: BLE001 - whatever breaks the trial letter must be reported, not raised
        return [Problem("letter.E022", "Ein Probebrief mit Beispieldaten ließ sich nicht erzeugen "
                                       f"({exc.__class__.__name__}: {exc}).")]
    return []


@functools.lru_cache(maxsize=64)
def _analysis(digest: str, data: bytes) -> tuple[tuple[Problem, ...], frozenset[str], frozenset[str]]:
    # Template versions never change, so the check of one version is done once per process.
    problems, used, needed = check_sources(template_sources(open_template(data)))
    return tuple(problems), frozenset(used), frozenset(needed)


def used_placeholders(data: bytes) -> frozenset[str]:
    """The placeholders a template names (e.g. to ask the clerk for a date of appointment)."""
    return _analysis(hashlib.sha256(data).hexdigest(), data)[1]


def needed_placeholders(data: bytes) -> frozenset[str]:
    """The placeholders a template prints unguarded: a letter without one of them is refused."""
    return _analysis(hashlib.sha256(data).hexdigest(), data)[2]


# --- rendering ----------------------------------------------------------------------------------------

# XML 1.0 forbids most control characters; \a and \f would become paragraph and page breaks in docxtpl.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean(value):
    if isinstance(value, str):
        return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _failed_where(data: bytes, tpl, exc: BaseException) -> Source:
    """Where rendering stopped: the part docxtpl was filling and the template line of the error."""
    part = str(getattr(getattr(tpl, "current_rendering_part", None), "partname", "") or "")
    lineno = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    try:
        sources = template_sources(open_template(data))
    except Exception:  # noqa: BLE001 - only for the message
        return Source("Vorlage")
    source = next((s for s in sources if s.partname and s.partname == part), None)
    return source.source(lineno) if source else Source("Vorlage")


def render_docx(template: bytes, context: dict, *, checked: bool = True) -> bytes:
    """The letter as .docx bytes. Raises TemplateProblem (German) when the template or the data fall short.

    1. ``checked``: the template passes the upload check (cached per version); else it is refused.
    2. Every needed value the template prints must be in the context (``Missing`` lists them all).
    3. Rendering runs in the sandbox; text values are XML-escaped and stripped of control characters.
    """
    if checked:
        problems, _, needed = _analysis(hashlib.sha256(template).hexdigest(), template)
        if problems:
            raise TemplateProblem(list(problems))
        lacking = missing_values(context, needed)
        if lacking:
            raise TemplateProblem([Problem("letter.E020", f"Für diesen Brief fehlt: {label}.") for label in lacking])
    from docxtpl import DocxTemplate  # imported when a letter is made, not at every worker's start
    tpl = DocxTemplate(io.BytesIO(template))
    try:
        tpl.render(_clean(context), jinja_env=ENV)
    except MissingValueError as exc:
        raise TemplateProblem(Problem("letter.E020", f"Für diesen Brief fehlt: {exc.label}.")) from None
    except TemplateError as exc:  # SecurityError and UndefinedError are TemplateErrors too
        if isinstance(exc, SecurityError):
            text = f"nicht erlaubter Zugriff in der Vorlage (Sandbox: {exc})"
        elif isinstance(exc, UndefinedError):
            text = f"unbekannter oder leerer Platzhalter ({exc})"
        elif isinstance(exc, TemplateSyntaxError):
            text = f"Syntaxfehler ({exc.message})"
        else:
            text = f"Die Vorlage ließ sich nicht ausfüllen ({exc})"
        raise TemplateProblem(Problem("letter.E021", f"{text}.", _failed_where(template, tpl, exc))) from None
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


__all__ = ["TemplateProblem", "validate_template", "template_problems", "render_docx", "used_placeholders", "needed_placeholders", "ENV"]
