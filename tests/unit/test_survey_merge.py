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
