"""The report's SVG charts: whole-number ticks for counts, category labels that never run into each other."""

import re

import pytest

from releases.charts import Series, column_chart, horizontal_bars, line_chart, shown_labels, text_width


def ticks_of(svg: str) -> list[str]:
    return re.findall(r'<text class="chart-tick"[^>]*>([^<]*)</text>', svg)


@pytest.mark.parametrize(
    ("largest", "expected"),
    [(1, ["0", "1"]), (3, ["0", "1", "2", "3"]), (7, ["0", "2", "4", "6", "8"]), (12, ["0", "5", "10", "15"])],
)
def test_counts_get_whole_number_ticks_up_to_at_least_the_largest(largest, expected):
    svg = column_chart(title="Added", categories=["#1", "#2"], series=[Series("added", [largest, 0])])
    assert ticks_of(svg) == expected


def test_large_counts_get_round_ticks_and_fractions_keep_theirs():
    assert ticks_of(line_chart(title="Size", categories=["a", "b"], series=[Series("n", [240, 1_234])])) == [
        "0",
        "500",
        "1,000",
        "1,500",
    ]
    assert "0.5" in ticks_of(line_chart(title="Days", categories=["a", "b"], series=[Series("days", [0.4, 1.5])]))


@pytest.mark.parametrize("count", [1, 2, 7, 12, 13, 30, 52, 100, 365])
def test_category_labels_are_spread_without_overlapping_and_keep_the_first_and_last(count):
    categories = [f"#{number} 11-{number % 30:02d}" for number in range(1, count + 1)]
    slot = (640 - 44) / count
    shown = sorted(shown_labels(categories, slot))
    assert shown[0] == 0 and shown[-1] == count - 1
    for left, right in zip(shown, shown[1:], strict=False):
        assert (right - left) * slot >= text_width(categories[left]) / 2 + text_width(categories[right]) / 2


def test_a_chart_of_many_releases_writes_each_label_once_and_not_every_one():
    categories = [f"#{number} 11-{number % 30:02d}" for number in range(1, 61)]
    svg = column_chart(title="Added", categories=categories, series=[Series("added", list(range(60)))])
    labels = re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', svg)
    assert labels[0] == "#1 11-01" and labels[-1] == "#60 11-00" and len(labels) < 20
    assert len(set(labels)) == len(labels)


def test_a_note_under_horizontal_bars_is_no_bar():
    svg = horizontal_bars(title="Licenses", labels=["MIT", "GPL"], values=[3, 1], note="Not scanned yet: 900")
    assert re.findall(r'<g class="chart-bar"><title>([^<]*)</title>', svg) == ["MIT: 3", "GPL: 1"]
    assert '<text class="chart-note" x="0" y="76">Not scanned yet: 900</text>' in svg
