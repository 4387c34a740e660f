"""Merging district survey forms: numerators and denominators add up, percentages are recomputed."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.indicators import INDICATORS
from app.domain.periods import Period
from app.integrations.survey_form import Figures, FormError, Survey, merge

Q1 = Period(date(2025, 1, 1), date(2025, 3, 31))


def survey(unit, numerator, denominator, period=Q1, as_of=date(2025, 4, 15)):
    return Survey(period, as_of, {unit: {code: Figures(numerator, denominator) for code in INDICATORS}})


def test_merge_adds_counts_and_never_averages():
    merged = merge([("mitte.xlsx", survey("Mitte", 1, 1)), ("pankow.xlsx", survey("Pankow", 1, 4, as_of=date(2025, 4, 20)))])
    total = merged.to_json()["total"]["1.1"]
    assert (total["numerator"], total["denominator"], total["percent"]) == (2, 5, 40.0)  # not 62.5
    assert merged.as_of == date(2025, 4, 20)  # the latest form's date


@pytest.mark.parametrize(("second", "message"), [
    (survey("Mitte", 1, 2), "„Mitte“ steht schon in a.xlsx"),
    (survey("Pankow", 1, 2, period=Period(date(2025, 1, 1), date(2025, 6, 30))), "passt nicht zu a.xlsx"),
], ids=["same-district-twice", "other-period"])
def test_forms_that_do_not_fit_together(second, message):
    with pytest.raises(FormError, match=message):
        merge([("a.xlsx", survey("Mitte", 1, 1)), ("b.xlsx", second)])


def test_a_form_error_carries_a_problem_with_its_id_and_place(tmp_path):
    from app.integrations.survey_form import read_form
    from app.problems import Source
    (tmp_path / "bericht.json").write_text('{"period": {"from": "2025-01-01", "to": "2025-03-31"}, '
                                           '"as_of": "2025-04-15", "org_units": {"Mitte": {"1.1": '
                                           '{"numerator": 3, "denominator": 2}}}}', encoding="utf-8")
    with pytest.raises(FormError) as caught:
        read_form(tmp_path / "bericht.json")
    # The CLI prints the German text as before; callers that collect problems get the value.
    assert str(caught.value) == f"{tmp_path / 'bericht.json'}, Mitte 1.1: Zähler 3 ist größer als Nenner 2."
    [problem] = caught.value.problems
    assert (problem.id, problem.message, problem.source) == (
        "survey.E010", "Zähler 3 ist größer als Nenner 2.", Source(str(tmp_path / "bericht.json"), path="Mitte 1.1"))


def test_merging_nothing_is_a_problem_without_a_place():
    with pytest.raises(FormError, match="Keine Erhebungsbögen angegeben.") as caught:
        merge([])
    assert [(p.id, p.source) for p in caught.value.problems] == [("survey.E015", None)]
