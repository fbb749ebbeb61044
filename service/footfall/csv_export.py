"""The stats as one CSV table: a total row, one row per bucket, one per weekday-hour."""

import csv
import io

from service.footfall.figures import WEEKDAYS

COLUMNS = (
    "section",
    "start",
    "weekday",
    "hour",
    "checkins",
    "visitors",
    "new_visitors",
    "returning_visitors",
    "meetings",
    "suppressed",
)


def _blank(value):
    return "" if value is None else value


def render(stats: dict) -> str:
    """CSV text of a stats report (suppressed numbers are empty cells)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "total",
            stats["from"].isoformat(),
            "",
            "",
            *(
                _blank(stats[key])
                for key in (
                    "total_checkins",
                    "unique_visitors",
                    "new_visitors",
                    "returning_visitors",
                    "meetings",
                )
            ),
            str(stats["suppressed"]).lower(),
        ]
    )
    for bucket in stats["series"]:
        writer.writerow(
            [
                stats["granularity"],
                bucket["start"],
                "",
                "",
                *(
                    _blank(bucket[key])
                    for key in (
                        "checkins",
                        "visitors",
                        "new_visitors",
                        "returning_visitors",
                        "meetings",
                    )
                ),
                str(bucket["suppressed"]).lower(),
            ]
        )
    for weekday, row in enumerate(stats["weekday_hour"]):
        for hour, cell in enumerate(row):
            writer.writerow(
                [
                    "weekday_hour",
                    "",
                    WEEKDAYS[weekday],
                    hour,
                    _blank(cell["checkins"]),
                    "",
                    "",
                    "",
                    "",
                    str(cell["suppressed"]).lower(),
                ]
            )
    return out.getvalue()
