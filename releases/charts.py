"""Charts as server-rendered SVG: readable without JavaScript, labelled for screen readers, no library.

Each function returns safe markup: an `<svg role="img">` with a `<title>` and a `<desc>` that say what it shows,
a `<title>` on every bar or point ("Release 3: 12 repositories"), and the numbers written next to the marks, so a
chart reads at a glance and in a screen reader. Colours come from CSS classes (`chart-s0` …), so the page's light
and dark themes apply. A table with the same numbers always sits beside a chart on the page.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
TOP_MARGIN = 18  # room for the value written above the tallest column or point
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def number_text(value: float | None, unit: str = "") -> str:
    """`12`, `2.5`, `1,234`; `–` for a missing value; the unit after it, if any."""
    if value is None:
        return "–"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def _svg(*, title: str, description: str, height: int, body: list[str], css_class: str) -> SafeString:
    chart_id = f"chart-{next(_ids)}"
    return mark_safe(
        f'<svg class="chart {css_class}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _empty(title: str, message: str) -> SafeString:
    body = [f'<text class="chart-empty" x="{WIDTH / 2}" y="40" text-anchor="middle">{escape(message)}</text>']
    return _svg(title=title, description=message, height=70, body=body, css_class="chart-none")


def _ticks(values) -> list[float]:
    """Round values for the axis, from 0 to at least the largest value, about four steps of 1, 2, 2.5 or 5 times
    a power of ten; whole numbers when every value is one (counts never get a 0.5 tick)."""
    present = [value for value in values if value is not None]
    top = max(present + [0])
    whole = all(float(value).is_integer() for value in present)
    if top <= 0:
        return [0, 1]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(
        factor * magnitude
        for factor in (1, 2, 2.5, 5, 10)
        if factor * magnitude >= raw and not (whole and not float(factor * magnitude).is_integer())
    )
    if whole:
        step = max(step, 1)
    count = math.ceil(top / step - 1e-9)
    return [step * index for index in range(count + 1)]


def _legend(series_labels: Sequence[str], y: float) -> tuple[list[str], float]:
    """Swatches and labels from `y` down, wrapped to the chart's width; returns them and the height they take."""
    parts, x, line = [], 0.0, 0
    for index, label in enumerate(series_labels):
        width = 32 + 7.4 * len(label)
        if x and x + width > WIDTH:
            x, line = 0.0, line + 1
        top = y + line * 20
        parts.append(f'<rect class="chart-s{index % 6}" x="{x:.1f}" y="{top - 10:.1f}" width="12" height="12"/>')
        parts.append(f'<text class="chart-legend" x="{x + 17:.1f}" y="{top:.1f}">{escape(label)}</text>')
        x += width
    return parts, line * 20


def horizontal_bars(
    *, title: str, labels: Sequence[str], values: Sequence[float], unit: str = "", note: str = ""
) -> SafeString:
    """One bar per label, longest value the full width; label on the left, value at the bar's end; `note`, a line
    of text under the bars (a count that is not one of them, which as a bar would dwarf the others)."""
    if not labels or not any(values):
        return _empty(title, note or "Nothing to show yet.")
    # Room for the longest label (~7 px a character at the chart's font size), within reason.
    label_width = int(min(320, max(90, 7.2 * max(len(label) for label in labels) + 16)))
    bar_height, gap = 22, 8
    top = max(values) or 1
    room = WIDTH - label_width - 70
    body = []
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = row * (bar_height + gap)
        length = room * (value or 0) / top
        text = number_text(value, unit)
        body.append(
            f'<g class="chart-bar"><title>{escape(label)}: {escape(text)}</title>'
            f'<text class="chart-label" x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-s0" x="{label_width}" y="{y}" width="{max(length, 1 if value else 0):.1f}" '
            f'height="{bar_height}"/>'
            f'<text class="chart-value" x="{label_width + length + 6:.1f}" y="{y + 16}">{escape(text)}</text></g>'
        )
    height = len(labels) * (bar_height + gap)
    description = "; ".join(f"{label}: {number_text(value, unit)}" for label, value in zip(labels, values, strict=True))
    if note:
        body.append(f'<text class="chart-note" x="0" y="{height + 16}">{escape(note)}</text>')
        height += 26
        description += f". {note}"
    return _svg(title=title, description=description, height=height, body=body, css_class="chart-hbars")


def share_bar(*, title: str, labels: Sequence[str], values: Sequence[float], unit: str = "") -> SafeString:
    """One full-width bar split into the parts of a whole, each with its share; a legend below."""
    total = sum(value or 0 for value in values)
    if not total:
        return _empty(title, "Nothing to show yet.")
    body, x = [], 0.0
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        if not value:
            continue
        width = WIDTH * value / total
        share = f"{100 * value / total:.0f}%"
        body.append(
            f'<g class="chart-bar"><title>{escape(label)}: {escape(number_text(value, unit))} ({share})</title>'
            f'<rect class="chart-s{index % 6}" x="{x:.1f}" y="0" width="{width:.1f}" height="34"/>'
        )
        if width > 44:
            body.append(f'<text class="chart-inside" x="{x + 6:.1f}" y="22">{share}</text>')
        body.append("</g>")
        x += width
    legend, extra = _legend(labels, 62)
    body += legend
    description = "; ".join(
        f"{label}: {number_text(value, unit)} of {number_text(total, unit)}"
        for label, value in zip(labels, values, strict=True)
    )
    return _svg(title=title, description=description, height=72 + extra, body=body, css_class="chart-share")


def column_chart(*, title: str, categories: Sequence[str], series: Sequence[Series], unit: str = "") -> SafeString:
    """Vertical columns per category, the series side by side; the value written above each column it fits."""
    if not categories or not any(value for one in series for value in one.values):
        return _empty(title, "Nothing to show yet.")
    left, bottom, plot_height = 44, 60, 200
    ticks = _ticks([value for one in series for value in one.values])
    top = ticks[-1]
    slot = (WIDTH - left) / len(categories)
    bar_width = min(slot * 0.7 / len(series), 48)
    labelled = shown_labels(categories, slot)
    body = [f'<g transform="translate(0,{TOP_MARGIN})">'] + _axis(left, plot_height, ticks)
    for index, category in enumerate(categories):
        x0 = left + slot * index + (slot - bar_width * len(series)) / 2
        for number, one in enumerate(series):
            value = one.values[index] or 0
            height = plot_height * value / top
            x, y = x0 + number * bar_width, plot_height - height
            body.append(
                f'<g class="chart-bar"><title>{escape(category)}, {escape(one.label)}: '
                f"{escape(number_text(value, unit))}</title>"
                f'<rect class="chart-s{number % 6}" x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
                f'height="{height:.1f}"/>'
            )
            # A value wider than its column would run into its neighbours': the tooltip and the table have it.
            if value and text_width(number_text(value)) <= bar_width + 2:
                body.append(
                    f'<text class="chart-value" x="{x + bar_width / 2:.1f}" y="{y - 3:.1f}" '
                    f'text-anchor="middle">{escape(number_text(value))}</text>'
                )
            body.append("</g>")
        if index in labelled:
            body.append(
                f'<text class="chart-label" x="{left + slot * index + slot / 2:.1f}" y="{plot_height + 16}" '
                f'text-anchor="middle">{escape(category)}</text>'
            )
    return _with_legend(title, categories, series, unit, body, plot_height, bottom, "chart-columns")


def line_chart(*, title: str, categories: Sequence[str], series: Sequence[Series], unit: str = "") -> SafeString:
    """One line per series over the categories (in order), each point marked; values written where labels are."""
    if not categories or not any(value for one in series for value in one.values if value is not None):
        return _empty(title, "Nothing to show yet.")
    left, bottom, plot_height = 44, 60, 200
    ticks = _ticks([value for one in series for value in one.values])
    top = ticks[-1]
    slot = (WIDTH - left) / len(categories)
    labelled = shown_labels(categories, slot)
    body = [f'<g transform="translate(0,{TOP_MARGIN})">'] + _axis(left, plot_height, ticks)

    def x_at(index: int) -> float:
        # Points sit in the middle of their slot, as columns do, so the first and last labels fit.
        return left + slot * (index + 0.5)

    written: dict[int, list[float]] = {}  # per category, the heights at which a value is written
    for number, one in enumerate(series):
        points = [
            (x_at(index), plot_height - plot_height * value / top)
            for index, value in enumerate(one.values)
            if value is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="chart-line chart-line-s{number % 6}" points="{path}"/>')
        for index, value in enumerate(one.values):
            if value is None:
                continue
            x, y = x_at(index), plot_height - plot_height * value / top
            point = f"{categories[index]}, {one.label}: {number_text(value, unit)}"
            # Values are written where the axis has a label, so neighbours' values never collide either; where
            # two lines meet, one value is written (the tooltips and the table have both).
            text = ""
            if index in labelled and all(abs(y - other) >= 14 for other in written.get(index, [])):
                written.setdefault(index, []).append(y)
                text = (
                    f'<text class="chart-value" x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">'
                    f"{escape(number_text(value))}</text>"
                )
            body.append(
                f'<g class="chart-point"><title>{escape(point)}</title>'
                f'<circle class="chart-s{number % 6}" cx="{x:.1f}" cy="{y:.1f}" r="4"/>{text}</g>'
            )
    for index, category in enumerate(categories):
        if index not in labelled:
            continue
        body.append(
            f'<text class="chart-label" x="{x_at(index):.1f}" y="{plot_height + 16}" text-anchor="middle">'
            f"{escape(category)}</text>"
        )
    return _with_legend(title, categories, series, unit, body, plot_height, bottom, "chart-lines")


def _with_legend(title, categories, series, unit, body: list[str], plot_height: int, bottom: int, css_class: str):
    """A plot of several series, finished: its legend under the plot, its group closed, the SVG around it."""
    legend, extra = _legend([one.label for one in series], plot_height + 46)
    return _svg(
        title=title,
        description=_series_description(categories, series, unit),
        height=plot_height + bottom + TOP_MARGIN + extra,
        body=[*body, *legend, "</g>"],
        css_class=css_class,
    )


CHARACTER_WIDTH = 7.0  # px per character of a label at the chart's font size, a little more than the average
LABEL_GAP = 8


def text_width(text: str) -> float:
    return CHARACTER_WIDTH * len(text)


def shown_labels(categories: Sequence[str], slot: float) -> set[int]:
    """Indexes of the category labels to write under the axis: evenly spread, the first and the last always, and
    never two so close that their texts (centred on their slots) overlap."""
    count = len(categories)
    if count <= 1:
        return set(range(count))
    widest = max(text_width(category) for category in categories) + LABEL_GAP
    every = max(1, math.ceil(widest / slot))  # slots between two written labels
    labels = (count - 1) // every + 1
    if labels == 1:
        return {0}
    spacing = (count - 1) / (labels - 1)
    return {round(number * spacing) for number in range(labels)}


def _axis(left: float, plot_height: float, ticks: Sequence[float]) -> list[str]:
    parts = []
    for tick in ticks:
        y = plot_height - plot_height * tick / ticks[-1]
        parts.append(f'<line class="chart-grid" x1="{left}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="chart-tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(number_text(tick))}</text>"
        )
    return parts


def _series_description(categories: Sequence[str], series: Sequence[Series], unit: str) -> str:
    return "; ".join(
        f"{category}: " + ", ".join(f"{one.label} {number_text(one.values[index], unit)}" for one in series)
        for index, category in enumerate(categories)
    )
