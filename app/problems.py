"""One value for everything that can be wrong with input: spec checks, import rows, survey merges,
letter templates, stale edits.

A Problem says what (German message, hint), how bad (error or warning), which rule (an id listed in
``app/problem_catalogue.py`` and, generated from it, in ``docs/spec-checks.md``) and where it was found
(one ``Source``: a YAML file with line and path, an import file with line and column, a template with
its paragraph). Modeled on Django's ``CheckMessage`` and
beancount's errors with filename and line. Pure Python: every layer may import it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Source:
    """Where a problem was found. ``file`` is always set; the rest as far as the kind of input knows it."""

    file: str
    line: int | None = None
    column: str | None = None  # import files: the column's header name
    path: str | None = None  # YAML: "entities[0].fields[2].ref"
    paragraph: int | None = None  # templates: the paragraph (1-based)
    excerpt: str | None = None  # templates: the paragraph's beginning, as the author sees it in Word

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.path:
            text += f": {self.path}"
        if self.column:
            text += f", Spalte „{self.column}“"
        if self.paragraph is not None:
            text += f", Absatz {self.paragraph}"
        if self.excerpt:
            text += f" („{self.excerpt}“)"
        return text


@dataclass(frozen=True)
class Problem:
    id: str  # "spec.E101", "import.E003", … : each id is listed in docs/spec-checks.md
    message: str  # German, one line: clerks and admins read these
    source: Source | None = None
    hint: str | None = None
    level: Level = Level.ERROR

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        label = "" if self.is_error else "Warnung "
        text = f"{where}({label}{self.id}) {self.message}"
        return f"{text}\n    HINWEIS: {self.hint}" if self.hint else text

    def sentence(self) -> str:
        """Place and message without the id: the line a clerk reads on a page."""
        return f"{self.source}: {self.message}" if self.source else self.message

    def as_dict(self) -> dict:
        data = {"id": self.id, "level": self.level.value, "message": self.message, "hint": self.hint}
        if self.source:
            data["source"] = {k: v for k, v in vars(self.source).items() if v is not None}
        return data


@dataclass(frozen=True)
class ProblemType:
    """A catalogue entry: one id, one meaning. ``docs/spec-checks.md`` is generated from the catalogue."""

    id: str
    area: str  # "Konfiguration", "Import", "Briefvorlagen", "Erhebungsbogen", "Bearbeitung"
    title: str  # German, what the rule checks
    level: Level = Level.ERROR


CATALOGUE: dict[str, ProblemType] = {}


def register(*types: ProblemType) -> None:
    for kind in types:
        if kind.id in CATALOGUE and CATALOGUE[kind.id] != kind:
            raise ValueError(f"problem id {kind.id} registered twice with different meanings")
        CATALOGUE[kind.id] = kind


@dataclass
class Problems(Exception):
    """Raised when input has errors; carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)
    heading: str = "Die Eingabe enthält Fehler:"

    def __post_init__(self) -> None:
        super().__init__(self.report())

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def report(self, limit: int | None = None) -> str:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [self.heading, *(str(p) for p in shown)]
        if limit is not None and len(self.problems) > limit:
            lines.append(f"… und {len(self.problems) - limit} weitere.")
        return "\n".join(lines)


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


# The catalogue registers every id with its area and title; imported last, it needs the names above.
from . import problem_catalogue  # noqa: E402,F401
