"""Location privacy: per-user grid snapping and distance rounding.

An ``approximate`` user is shown only as the centre of a ~2 km grid cell. Each user's grid
is shifted by a fixed secret offset (HMAC of the user id), so cell edges differ between
users and cannot be learned from one user and applied to another. Snapping is a pure
function of (position, offset): the same question always gets the same answer, so
repeated queries from chosen positions (trilateration) learn nothing finer than the cell.
"""

import hashlib
import hmac
import math

from geo.coords import LatLon

CELL_M = 2000.0
METRES_PER_DEGREE_LAT = 111_320.0
EXACT_ROUNDING_M = 100
APPROXIMATE_ROUNDING_M = 500


def user_offset(secret: bytes, user_id: int) -> tuple[float, float]:
    """The user's fixed grid shift as fractions of a cell in [0, 1), (rows, columns)."""
    digest = hmac.new(secret, f"grid:{user_id}".encode(), hashlib.sha256).digest()
    rows = int.from_bytes(digest[:8], "big") / 2**64
    columns = int.from_bytes(digest[8:16], "big") / 2**64
    return rows, columns


def snap(position: LatLon, offset: tuple[float, float], cell_m: float = CELL_M) -> LatLon:
    """Centre of the (shifted) grid cell holding ``position``.

    Rows are ``cell_m`` tall; each row is split into a whole number of columns about
    ``cell_m`` wide at the row's centre latitude, so cells tile the globe and wrap cleanly
    at the antimeridian; near the poles a row is one cell.
    """
    row_offset, column_offset = offset
    step_lat = cell_m / METRES_PER_DEGREE_LAT
    row = math.floor((position.lat + 90.0) / step_lat + row_offset)
    centre_lat = (row + 0.5 - row_offset) * step_lat - 90.0
    centre_lat = max(-90.0, min(90.0, centre_lat))
    width_m = METRES_PER_DEGREE_LAT * math.cos(math.radians(centre_lat))
    columns = max(1, math.floor(360.0 * width_m / cell_m))
    step_lon = 360.0 / columns
    column = math.floor((position.lon + 180.0) / step_lon + column_offset) % columns
    centre_lon = (column + 0.5 - column_offset) * step_lon - 180.0
    centre_lon = (centre_lon + 180.0) % 360.0 - 180.0
    return LatLon(round(centre_lat, 6), round(centre_lon, 6))


def round_distance(distance_m: float, step_m: int) -> int:
    """Round a distance to the nearest multiple of ``step_m`` metres."""
    return int(round(distance_m / step_m) * step_m)
