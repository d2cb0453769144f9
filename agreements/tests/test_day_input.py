"""Days are typed and shown the way every page writes them: "1 Dec 2026"."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms

from agreements.forms.common import BoundedDateField, DateInput


class DayForm(forms.Form):
    day = BoundedDateField(widget=DateInput())


@pytest.mark.parametrize(
    "typed",
    [
        "1 Dec 2026",
        "01 dec 2026",
        "1 December 2026",
        "2026-12-01",
        "1/12/2026",
        " 1 Dec, 2026 ",
    ],
)
def test_a_day_is_accepted_as_pages_write_it_and_as_iso(typed):
    form = DayForm({"day": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == dt.date(2026, 12, 1)


def test_month_first_numbers_are_not_guessed():
    form = DayForm({"day": "12/31/2026"})
    assert not form.is_valid()
    assert form.errors["day"] == ["Enter a day like 1 Dec 2026."]


def test_a_day_is_shown_as_pages_write_it():
    html = str(DayForm(initial={"day": dt.date(2026, 12, 1)})["day"])
    assert 'type="text"' in html
    assert 'value="1 Dec 2026"' in html
    assert 'placeholder="e.g. 1 Dec 2026"' in html


def test_what_was_typed_wrongly_comes_back_as_typed():
    html = str(DayForm({"day": "soon"})["day"])
    assert 'value="soon"' in html
