"""The charts of the transparency report, drawn from its figures (the same rows as its tables and downloads)."""

from django.utils.safestring import SafeString

from releases.charts import Series, column_chart, horizontal_bars, line_chart, number_text, share_bar
from releases.reports.transparency import TransparencyReport


def transparency_charts(report: TransparencyReport) -> dict[str, list[tuple[str, SafeString]]]:
    """Figure key → its charts as (title, SVG), in the order the page shows them."""
    figures = report.figures
    releases = figures["releases"]
    versions = [
        f"#{version} {published[5:10]}"
        for version, published in zip(releases.column("version"), releases.column("published_at"), strict=True)
    ]
    states = figures["requests_by_state"]
    verification = figures["verification"]
    licenses = figures["license_mix"]
    applied = figures["time_to_applied"]
    lag = figures["exclusion_lag"]
    return {
        "releases": [
            _titled(
                line_chart,
                title="Repositories and namespaces excluded by each release",
                categories=versions,
                series=[
                    Series("repositories", releases.column("repositories")),
                    Series("namespaces", releases.column("namespaces")),
                ],
            ),
            _titled(
                column_chart,
                title="Added and removed by each release",
                categories=versions,
                series=[
                    Series("repositories added", releases.column("repositories_added")),
                    Series("namespaces added", releases.column("namespaces_added")),
                    Series("repositories removed", releases.column("repositories_removed")),
                    Series("namespaces removed", releases.column("namespaces_removed")),
                ],
            ),
        ],
        "requests_by_state": [_bars(states, "Opt-out requests by state", "label", "requests")],
        "time_to_applied": [_bars(applied, "Requests by time from confirmation to applied", "bucket", "requests")],
        "verification": [
            _titled(
                share_bar,
                title="How verified requests were verified",
                labels=verification.column("label"),
                values=verification.column("requests"),
            )
        ],
        "license_mix": [_license_bars(licenses)],
        "exclusion_lag": [_bars(lag, "Exclusions by lag to the first release carrying them", "bucket", "exclusions")],
    }


def _bars(figure, title: str, label_key: str, value_key: str) -> tuple[str, SafeString]:
    return _titled(horizontal_bars, title=title, labels=figure.column(label_key), values=figure.column(value_key))


def _license_bars(figure) -> tuple[str, SafeString]:
    """The classifications as bars; the repositories not scanned yet as a line under them, not a bar: early on
    they are most of the inventory, and their bar would flatten the others."""
    rows = [row for row in figure.rows if row["classification"] != "not_scanned"]
    not_scanned = sum(row["repositories"] for row in figure.rows if row["classification"] == "not_scanned")
    return _titled(
        horizontal_bars,
        title="Inventory repositories by license classification",
        labels=[row["label"] for row in rows],
        values=[row["repositories"] for row in rows],
        note=f"Not scanned yet: {number_text(not_scanned)} repositor{'y' if not_scanned == 1 else 'ies'}"
        if not_scanned
        else "",
    )


def _titled(chart, **arguments) -> tuple[str, SafeString]:
    return arguments["title"], chart(**arguments)
