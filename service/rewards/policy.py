"""The points policy (PRODUCT.md, Points): what each reward is worth, configurable.

Read from the configuration once, at the request boundary (``from_config``), and passed
into the rewards code: nothing below the views reads ``current_app`` for points.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PointsPolicy:
    """Points per reward; the defaults are PRODUCT.md's."""

    checkin: int = 5
    first_visit: int = 10
    event: int = 10
    first_meeting: int = 50
    meeting: int = 10
    mayorship: int = 25
    streak_day: int = 2
    streak_max: int = 20

    @classmethod
    def from_config(cls, cfg) -> "PointsPolicy":
        """The policy an app is configured with (``POINTS_*``)."""
        return cls(
            checkin=cfg["POINTS_CHECKIN"],
            first_visit=cfg["POINTS_FIRST_VISIT"],
            event=cfg["POINTS_EVENT"],
            first_meeting=cfg["POINTS_FIRST_MEETING"],
            meeting=cfg["POINTS_MEETING"],
            mayorship=cfg["POINTS_MAYORSHIP"],
            streak_day=cfg["POINTS_STREAK_DAY"],
            streak_max=cfg["POINTS_STREAK_MAX"],
        )

    def for_meeting(self, first: bool) -> tuple[str, int]:
        """The ledger reason and points of a meeting."""
        return ("first_meeting", self.first_meeting) if first else ("meeting", self.meeting)
