"""Problems found in the YAML configuration, with the place they come from.

A spec problem is an ``app.problems.Problem`` like every other problem of the application; its ids
(``spec.E…``, ``roles.E…``) are listed in ``app/problem_catalogue.py`` and, generated from there, in
``docs/spec-checks.md``.
"""
from __future__ import annotations

from typing import NamedTuple

from ..problems import Level, Problem, Problems, Source

Loc = tuple[str | int, ...]


class Found(NamedTuple):
    """A problem found by a check, before file and line are known."""

    id: str
    loc: Loc
    message: str
    hint: str | None = None


class SpecIssue(Problem):
    """A ``Problem`` in a YAML file, made the way the loader always made it: id, message, file, line, path.

    ``str()`` reads "file:line: path: (id) message" and, if there is one, the HINWEIS line below.
    """

    def __init__(self, id: str, message: str, file: str, line: int, path: str, hint: str | None = None,
                 level: Level = Level.ERROR):
        super().__init__(id, message, Source(file, line, path=path), hint, level)

    @property
    def file(self) -> str:
        return self.source.file

    @property
    def line(self) -> int:
        return self.source.line

    @property
    def path(self) -> str:
        return self.source.path


class ConfigError(Problems):
    """The configuration is invalid; carries every issue found, not just the first."""

    def __init__(self, issues: list[Problem]):
        super().__init__(list(issues), f"Die Konfiguration enthält {len(issues)} Fehler:")

    @property
    def issues(self) -> list[Problem]:
        return self.problems


def format_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(Datei)"
