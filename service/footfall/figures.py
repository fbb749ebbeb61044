"""Footfall figures as both readers produce them, and the owner's report (pure).

No bucket built from fewer than ``THRESHOLD`` distinct visitors shows a number: it is
marked suppressed (PRODUCT.md, Privacy); and no figure, nor a difference of two, gives
back fewer than ``THRESHOLD`` people (``suppression.py``: a second figure is hidden where
needed). A hidden figure is null; ``suppressed`` marks a whole row hidden. The report
never names a visitor.
"""

from dataclasses import dataclass, field

from service.footfall.grid import Range, bucket_keys, label
from service.footfall.suppression import THRESHOLD, grid_hidden, row_hidden, series_hidden

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Counts:
    """What one bucket holds."""

    checkins: int = 0
    visitors: int = 0
    new: int = 0
    meetings: int = 0
    met: set = field(default_factory=set, repr=False)  # who met here: never shown


@dataclass
class Figures:
    """The totals, each bucket's counts (by bucket key) and each weekday-hour cell's."""

    total: Counts = field(default_factory=Counts)
    buckets: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)


def _shown(counts: Counts, hidden: set) -> dict:
    figures = {
        "checkins": counts.checkins,
        "visitors": counts.visitors,
        "new_visitors": counts.new,
        "returning_visitors": counts.visitors - counts.new,
        "meetings": counts.meetings,
    }
    return {
        **{name: None if name in hidden else value for name, value in figures.items()},
        "suppressed": "visitors" in hidden,
    }


def report(span: Range, figures: Figures) -> dict:
    """The owner's view of ``figures``: totals, one entry per bucket, the 7x24 weekday x
    hour grid (Monday first, local hours) and the peak hour, suppression applied."""
    total_hidden = row_hidden(figures.total)
    total = _shown(figures.total, total_hidden)
    hidden = series_hidden(figures.total, figures.buckets)
    shut = grid_hidden(figures.total, total_hidden, figures.buckets, hidden, figures.cells, span)
    grid = [
        [
            {"checkins": None, "suppressed": True}
            if (w, h) in shut or (w, h) not in figures.cells
            else {"checkins": figures.cells[(w, h)].checkins, "suppressed": False}
            for h in range(24)
        ]
        for w in range(7)
    ]
    shown_cells = [
        (cell["checkins"], -w, -h)
        for w, row in enumerate(grid)
        for h, cell in enumerate(row)
        if not cell["suppressed"]
    ]
    peak = None
    if shown_cells:
        checkins, w, h = max(shown_cells)
        peak = {"weekday": -w, "weekday_name": WEEKDAYS[-w], "hour": -h, "checkins": checkins}
    empty = Counts()
    return {
        "suppressed": total["suppressed"],
        "total_checkins": total["checkins"],
        "unique_visitors": total["visitors"],
        "new_visitors": total["new_visitors"],
        "returning_visitors": total["returning_visitors"],
        "meetings": total["meetings"],
        "series": [
            {
                "start": label(key, span.zone),
                **_shown(figures.buckets.get(key, empty), hidden.get(key, row_hidden(empty))),
            }
            for key in bucket_keys(span)
        ],
        "weekday_hour": grid,
        "peak_hour": peak,
        "suppression_threshold": THRESHOLD,
    }
