"""Problems found in the YAML configuration, with the place they come from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

Loc = tuple[str | int, ...]


class Found(NamedTuple):
    """A problem found by a check, before file and line are known."""

    id: str
    loc: Loc
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class SpecIssue:
    id: str  # "spec.E101"; each id is listed in docs/spec-checks.md
    message: str  # German, one line: admins read these
    file: str
    line: int
    path: str  # "entities[0].fields[2].ref"
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.path}: ({self.id}) {self.message}"
        return f"{text}\n    HINWEIS: {self.hint}" if self.hint else text


class ConfigError(Exception):
    """The configuration is invalid; carries every issue found, not just the first."""

    def __init__(self, issues: list[SpecIssue]):
        self.issues = issues
        super().__init__(self.report())

    def report(self) -> str:
        head = f"Die Konfiguration enthält {len(self.issues)} Fehler:"
        return "\n".join([head, *(str(i) for i in self.issues)])


def format_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(Datei)"
