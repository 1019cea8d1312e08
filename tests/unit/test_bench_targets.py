"""The benchmarks' targets tables: when a figure meets its target, and how far off it is when not."""

from __future__ import annotations

import math

from bench._common import Target, targets_table


def test_a_figure_equal_to_its_upper_bound_is_met() -> None:
    assert Target("AWS calls per event", 8.0, 8).verdict() == "met"


def test_a_figure_above_its_upper_bound_says_how_many_times_too_high() -> None:
    assert Target("AWS calls per event", 16.7, 8).verdict() == "NOT met (2.09x)"


def test_a_rate_equal_to_its_lower_bound_is_met() -> None:
    assert Target("events/s", 40.0, 40, at_most=False).verdict() == "met"


def test_a_rate_below_its_lower_bound_says_how_many_times_too_low() -> None:
    assert Target("events/s", 12.1, 40, at_most=False).verdict() == "NOT met (3.31x)"


def test_a_rate_of_zero_is_not_met_without_dividing_by_it() -> None:
    assert Target("events/s", 0.0, 40, at_most=False).verdict() == "NOT met"


def test_a_figure_that_could_not_be_measured_is_neither_met_nor_missed() -> None:
    assert Target("p99 ms", math.nan, 150).verdict() == "not measured"


def test_a_figure_without_a_bound_is_shown_for_information_only() -> None:
    assert Target("provisioned $/M", 5.78, fmt="${:.2f}").row() == ["provisioned $/M", "$5.78", "—", ""]


def test_the_table_shows_each_bound_with_its_direction() -> None:
    text = targets_table(
        [Target("core $/M", 9.68, 6.0, fmt="${:.2f}"), Target("events/s", 41.0, 40, at_most=False)]
    )
    lines = text.splitlines()
    assert lines[0].split() == ["figure", "measured", "target", "met?"]
    assert lines[2].split() == ["core", "$/M", "$9.68", "≤", "$6.00", "NOT", "met", "(1.61x)"]
    assert lines[3].split() == ["events/s", "41.0", "≥", "40.0", "met"]
