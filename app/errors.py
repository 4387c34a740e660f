"""The exception of the domain rules: a German sentence for the user, and the Problems behind it."""
from __future__ import annotations

from collections.abc import Iterable

from .problems import Problem


class DomainError(Exception):
    """A rule of the domain was broken; the message is German and shown to the user as it is.

    It may carry the ``Problem`` values behind it (``problems``): a service that checks several things
    raises one DomainError with all of them, and a caller that lists problems (an import report, a form)
    reads them instead of parsing the sentence. Without a message the text is made from the problems.
    """

    def __init__(self, message: str | Problem | None = None, *,
                 problems: Problem | Iterable[Problem] | None = None):
        if isinstance(message, Problem):
            message, problems = None, [message, *self._listed(problems)]
        self.problems: list[Problem] = self._listed(problems)
        if message is None:
            message = "\n".join(p.sentence() for p in self.problems) or "Die Aktion ist nicht möglich."
        self.message = message
        super().__init__(message)

    @staticmethod
    def _listed(problems: Problem | Iterable[Problem] | None) -> list[Problem]:
        if problems is None:
            return []
        return [problems] if isinstance(problems, Problem) else list(problems)


class NoHomeUnitError(DomainError):
    """The account has no org unit, so a new record would belong nowhere (or, before, to someone else's)."""

    MESSAGE = ("Ihrem Konto ist keine Dienststelle zugeordnet; Sie können keine Datensätze anlegen. "
               "Bitte wenden Sie sich an die Administration.")

    def __init__(self, message: str = MESSAGE):
        super().__init__(message)
