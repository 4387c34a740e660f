"""One Problem value across the application: spec issues, template checks and domain errors carry it,
while each keeps the German text its callers and pages have always shown."""
from __future__ import annotations

import pytest

from app.errors import DomainError
from app.letters.render import template_problems, validate_template
from app.metamodel.issues import ConfigError, SpecIssue
from app.problems import Level, Problem, Problems, Source
from tests.unit.letter_docs import docx_with


def test_a_spec_issue_is_a_problem_and_prints_as_check_config_always_did():
    issue = SpecIssue("spec.E111", "unbekannte Entität 'houshold'", "config/entities.yaml", 41,
                      "entities[3].fields[2].ref", "Meinten Sie 'household'?")
    assert isinstance(issue, Problem)
    assert issue.source == Source("config/entities.yaml", 41, path="entities[3].fields[2].ref")
    assert (issue.file, issue.line, issue.path) == ("config/entities.yaml", 41, "entities[3].fields[2].ref")
    assert str(issue) == ("config/entities.yaml:41: entities[3].fields[2].ref: (spec.E111) unbekannte Entität "
                          "'houshold'\n    HINWEIS: Meinten Sie 'household'?")
    error = ConfigError([issue])
    assert isinstance(error, Problems) and error.issues == error.problems == [issue]
    assert error.report().splitlines()[0] == "Die Konfiguration enthält 1 Fehler:"


def test_template_problems_name_the_part_and_the_paragraph():
    data = docx_with("Sehr geehrte Damen und Herren,", "Termin: {{ termin }}", "{{ recipient.name|attr('x') }}")
    problems = template_problems(data)
    assert [(p.id, p.source.file, p.source.paragraph) for p in problems] == [
        ("letter.E015", "Hauptteil", 2), ("letter.E012", "Hauptteil", 3)]
    assert problems[0].source.excerpt == "Termin: {{ termin }}"
    # The page shows the same German line as before: place, then message, no id.
    assert validate_template(data)[0] == ("Hauptteil, Absatz 2 („Termin: {{ termin }}“): unbekannter Platzhalter "
                                          "„termin“.")


def test_a_file_that_is_no_docx_is_one_problem_without_a_paragraph():
    assert [(p.id, p.source) for p in template_problems(b"kein Word")] == [("letter.E003", None)]


def test_domain_error_stays_a_german_sentence():
    error = DomainError("Die Aufgabe ist nicht mehr offen.")
    assert str(error) == error.message == "Die Aufgabe ist nicht mehr offen."
    assert error.problems == []


def test_domain_error_carries_its_problems_and_says_them_in_german():
    first = Problem("import.E003", "„31.02.2025“ ist kein Datum.", Source("ereignisse.csv", 7, column="Datum"))
    second = Problem("import.W001", "Zeile schon importiert.", Source("ereignisse.csv", 9), level=Level.WARNING)
    error = DomainError(problems=[first, second])
    assert error.problems == [first, second]
    assert str(error) == ("ereignisse.csv:7, Spalte „Datum“: „31.02.2025“ ist kein Datum.\n"
                          "ereignisse.csv:9: Zeile schon importiert.")
    single = DomainError(first)
    assert single.problems == [first] and str(single) == first.sentence()
    titled = DomainError("Der Import wurde abgebrochen.", problems=first)
    assert str(titled) == "Der Import wurde abgebrochen." and titled.problems == [first]


def test_subclasses_of_domain_error_keep_working():
    from app.letters.versions import LetterError
    with pytest.raises(DomainError, match="gibt es nicht"):
        raise LetterError("Briefvorlage „x“ gibt es nicht.")
