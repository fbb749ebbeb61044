"""Apply the five reward-eligibility rules to measured facts."""

from datetime import datetime

from geo import rules
from service.checkins.measure import Measures


def reasons(
    *, measures: Measures, radius_m: float, accuracy_m: float | None, at: datetime
) -> list[rules.Reason]:
    """Every rule the check-in breaks, in PRODUCT.md's order (empty: eligible)."""
    found = [
        rules.imprecise(accuracy_m),
        rules.too_far(measures.venue_distance_m, radius_m, accuracy_m),
    ]
    if measures.previous_at is not None:
        seconds = (at - measures.previous_at).total_seconds()
        found.append(rules.too_fast(measures.previous_distance_m, seconds))
    found.append(rules.too_soon(at, measures.nearest_same_venue_at))
    found.append(rules.too_many_places(measures.other_venues_in_window))
    return [reason for reason in found if reason is not None]
