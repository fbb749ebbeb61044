"""Shape what a contact may see of someone's whereabouts (PRODUCT.md, Privacy).

``exact``: the venue, distances rounded to 100 m. ``approximate``: no venue, only the
venue's position snapped to the person's shifted ~2 km grid, distances measured from that
snapped point and rounded to 500 m. ``off`` and private check-ins never get here.
"""

from functools import lru_cache

from flask import current_app

from geo import geodesic, privacy
from geo.coords import LatLon
from service.common.people import person


@lru_cache(maxsize=65536)
def _offset(secret: str, user_id: int) -> tuple[float, float]:
    return privacy.user_offset(secret.encode(), user_id)


def shown_position(user_id: int, sharing: str, venue_position: LatLon) -> LatLon:
    """Where contacts see the person: the venue, or the snapped cell centre."""
    if sharing == "approximate":
        return privacy.snap(venue_position, _offset(current_app.config["LOCATION_SECRET"], user_id))
    return venue_position


def shown_distance(sharing: str, here: LatLon, shown: LatLon) -> tuple[float, int]:
    """``(true distance to the shown point, rounded distance to report)`` in metres."""
    distance = geodesic.distance_m(here, shown)
    step = privacy.APPROXIMATE_ROUNDING_M if sharing == "approximate" else privacy.EXACT_ROUNDING_M
    return distance, privacy.round_distance(distance, step)


def checkin_view(
    *,
    checkin_id: int,
    handle: str,
    display_name: str,
    user_id: int,
    sharing: str,
    venue: dict,
    venue_position: LatLon,
    shout: str | None,
    effective_at,
) -> dict:
    """A contact's check-in as I may see it."""
    shown = shown_position(user_id, sharing, venue_position)
    return {
        "id": checkin_id,
        "user": person(handle, display_name),
        "sharing": sharing,
        "venue": venue if sharing == "exact" else None,
        "location": shown.as_dict(),
        "shout": shout,
        "effective_at": effective_at,
    }
