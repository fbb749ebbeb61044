"""Reward-eligibility rules for a check-in (PRODUCT.md, "Rules").

Pure functions over numbers the caller measured (distances in metres on the spheroid,
times as aware datetimes). A check-in that breaks a rule is still stored; the rule only
withholds the reward, so each rule returns a ``Reason`` carrying its numbers or ``None``.
"""

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

IMPRECISE_ACCURACY_M = 500.0
ACCURACY_ALLOWANCE_CAP_M = 150.0
MAX_SPEED_MPS = 300.0
SPEED_EXEMPT_DISTANCE_M = 1000.0
REPEAT_WINDOW = timedelta(minutes=60)
PLACES_WINDOW = timedelta(minutes=60)
MAX_OTHER_PLACES = 4  # 5 or more other venues within the window: a probe, not a person


@dataclass(frozen=True)
class Reason:
    """Why a check-in earns no reward, with the numbers a person can act on."""

    code: str
    message: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Return a JSON-ready dict."""
        return asdict(self)


def imprecise(accuracy_m: float | None) -> Reason | None:
    """Reported accuracy worse than 500 m."""
    if accuracy_m is None or accuracy_m <= IMPRECISE_ACCURACY_M:
        return None
    return Reason(
        "imprecise",
        f"Your location was only accurate to {accuracy_m:.0f} m; "
        f"check-ins need {IMPRECISE_ACCURACY_M:.0f} m or better to earn rewards.",
        {"accuracy_m": accuracy_m, "max_accuracy_m": IMPRECISE_ACCURACY_M},
    )


def allowed_distance_m(radius_m: float, accuracy_m: float | None) -> float:
    """Venue radius plus the GPS allowance (accuracy, capped at 150 m)."""
    return radius_m + min(accuracy_m or 0.0, ACCURACY_ALLOWANCE_CAP_M)


def too_far(distance_m: float, radius_m: float, accuracy_m: float | None) -> Reason | None:
    """Reported location farther from the venue than its radius plus the allowance."""
    allowed = allowed_distance_m(radius_m, accuracy_m)
    if distance_m <= allowed:
        return None
    return Reason(
        "too_far",
        f"You were {distance_m:.0f} m from the venue; rewards need {allowed:.0f} m or less.",
        {"distance_m": round(distance_m, 1), "allowed_m": allowed, "radius_m": radius_m},
    )


def too_fast(distance_m: float, seconds: float) -> Reason | None:
    """Implied speed from the previous check-in above 300 m/s, unless under 1 km apart."""
    if distance_m < SPEED_EXEMPT_DISTANCE_M:
        return None
    speed = distance_m / max(abs(seconds), 1.0)
    if speed <= MAX_SPEED_MPS:
        return None
    return Reason(
        "too_fast",
        f"You would have travelled {distance_m / 1000:.1f} km in {abs(seconds):.0f} s "
        f"({speed:.0f} m/s) since your previous check-in; the limit is "
        f"{MAX_SPEED_MPS:.0f} m/s.",
        {
            "distance_m": round(distance_m, 1),
            "seconds": abs(seconds),
            "speed_mps": round(speed, 1),
            "max_speed_mps": MAX_SPEED_MPS,
        },
    )


def too_soon(at: datetime, other_at: datetime | None) -> Reason | None:
    """Another check-in at the same venue less than 60 minutes away in effective time."""
    if other_at is None:
        return None
    gap = abs(at - other_at)
    if gap >= REPEAT_WINDOW:
        return None
    minutes = gap.total_seconds() / 60
    # this check-in is stored too, so the next one counts an hour after the later of the two
    next_counts_at = (max(at, other_at) + REPEAT_WINDOW).astimezone(UTC)
    return Reason(
        "too_soon",
        f"You checked in here {minutes:.0f} min apart from another check-in; "
        f"wait {REPEAT_WINDOW.total_seconds() / 60:.0f} min between check-ins at one venue: "
        f"your next check-in here counts from {next_counts_at:%H:%M} UTC "
        f"({next_counts_at.isoformat()}).",
        {
            "minutes_apart": round(minutes, 1),
            "min_minutes": REPEAT_WINDOW.total_seconds() / 60,
            "next_counts_at": next_counts_at.isoformat(),
        },
    )


def too_many_places(other_venues: int) -> Reason | None:
    """Check-ins at 5 or more other venues within 60 minutes (effective time, before or
    after) of this one: nobody visits six places in an hour, but a probe does."""
    if other_venues <= MAX_OTHER_PLACES:
        return None
    return Reason(
        "too_many_places",
        f"You checked in at {other_venues} other places within "
        f"{PLACES_WINDOW.total_seconds() / 60:.0f} min of this one; rewards need "
        f"{MAX_OTHER_PLACES} or fewer.",
        {
            "other_venues": other_venues,
            "max_other_venues": MAX_OTHER_PLACES,
            "window_minutes": PLACES_WINDOW.total_seconds() / 60,
        },
    )
