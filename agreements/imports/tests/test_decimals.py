"""Number styles: which read a column, and the value read with one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agreements.imports import number_styles_for, parse_number
from agreements.imports.decimals import COMMA_THOUSANDS, DOT_THOUSANDS, PLAIN


@pytest.mark.parametrize(
    ("values", "styles"),
    [
        (["12000.50", "-3", ""], [PLAIN, COMMA_THOUSANDS]),
        (["1,234.50", "980"], [COMMA_THOUSANDS]),
        (["12.000,50", "1.250.000,00", "980,00"], [DOT_THOUSANDS]),
        # Twelve and a half, or twelve thousand five hundred: the person says.
        (["12.500"], [PLAIN, COMMA_THOUSANDS, DOT_THOUSANDS]),
        (["12,50"], [DOT_THOUSANDS]),
        (["1,234.50", "12.000,50"], []),
        (["12,34.5"], []),  # thousands group by three
        (["€ 12"], []),
        ([""], []),
    ],
)
def test_the_styles_offered_read_every_value_of_the_column(values, styles):
    assert number_styles_for(values) == styles


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        ("12000.50", PLAIN, Decimal("12000.50")),
        (" -3 ", PLAIN, Decimal(-3)),
        ("1,234.50", COMMA_THOUSANDS, Decimal("1234.50")),
        ("1234.5", COMMA_THOUSANDS, Decimal("1234.5")),
        ("12.000,50", DOT_THOUSANDS, Decimal("12000.50")),
        ("1.250.000,00", DOT_THOUSANDS, Decimal("1250000.00")),
        ("+980,5", DOT_THOUSANDS, Decimal("980.5")),
        ("12.500", DOT_THOUSANDS, Decimal(12500)),
        ("12.500", PLAIN, Decimal("12.5")),
    ],
)
def test_a_value_is_read_in_the_chosen_style(value, style, expected):
    assert parse_number(value, style) == expected


@pytest.mark.parametrize(
    ("value", "style", "message"),
    [
        (
            "12.000,50",
            COMMA_THOUSANDS,
            "“12.000,50” is not a number written as Comma thousands, dot decimals "
            "(12,000.50): write it like 12,000.50.",
        ),
        (
            "1,200.50",
            PLAIN,
            "“1,200.50” is not a number written as Plain (12000.50): write it "
            "like 12000.50.",
        ),
        (
            "NaN",
            PLAIN,
            "“NaN” is not a number written as Plain (12000.50): write it like "
            "12000.50.",
        ),
    ],
)
def test_a_value_its_style_cannot_read_is_named_with_the_style(value, style, message):
    with pytest.raises(ValueError) as refused:
        parse_number(value, style)
    assert str(refused.value) == message
