"""What a figure of a report is (a table with a definition), its CSV and JSON, and the statistics it uses."""

import bisect
import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

SECONDS_PER_DAY = 86_400
# Lower bounds of the duration buckets, in days; a duration falls in the last bucket whose bound it reaches.
DURATION_BUCKETS = [
    (0, "under 1 day"),
    (1, "1 to 3 days"),
    (3, "3 to 7 days"),
    (7, "1 to 2 weeks"),
    (14, "2 to 4 weeks"),
    (28, "4 weeks or more"),
]


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass
class Figure:
    """One table of a report: its rows are what the chart draws, the HTML table shows and the downloads hold."""

    key: str
    title: str
    definition: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "definition": self.definition,
            "columns": [{"key": column.key, "label": column.label} for column in self.columns],
            "rows": self.rows,
        }

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([column.key for column in self.columns])
        for row in self.rows:
            writer.writerow([_csv_cell(row.get(column.key)) for column in self.columns])
        return out.getvalue()

    def cells(self) -> list[list]:
        """The rows as lists in column order, for the HTML table."""
        return [[row.get(column.key) for column in self.columns] for row in self.rows]

    def column(self, key: str) -> list:
        return [row.get(key) for row in self.rows]


def _csv_cell(value) -> str:
    return "" if value is None else str(value)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (NumPy's default, spreadsheets' PERCENTILE.INC).

    With sorted values v[0..n-1], the position is (n - 1) × fraction; between two ranks the value is
    interpolated. percentile(v, 0.5) is the ordinary median; None when there are no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def days(duration: timedelta | float | None) -> float | None:
    """A duration (or seconds) in days, rounded to two decimals: the unit of every duration in the reports."""
    if duration is None:
        return None
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    return round(seconds / SECONDS_PER_DAY, 2)


def duration_buckets(durations_in_days: Sequence[float]) -> list[dict]:
    """How many durations fall in each bucket of DURATION_BUCKETS, every bucket listed."""
    bounds = [bound for bound, _ in DURATION_BUCKETS]
    counts = [0] * len(DURATION_BUCKETS)
    for value in durations_in_days:
        counts[max(bisect.bisect_right(bounds, value) - 1, 0)] += 1
    return [{"bucket": label, "count": count} for (_, label), count in zip(DURATION_BUCKETS, counts, strict=True)]


def share_percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
