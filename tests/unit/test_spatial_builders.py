"""geo/'s expression builders compile to the PostGIS the rules need (no database): metres on
geography, index-backed filters, WGS 84 points in lon/lat order."""

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, MetaData, Table
from sqlalchemy.dialects import postgresql

from geo import meetings
from geo import sql as geosql
from geo.coords import LatLon

checkins = Table(
    "checkins",
    MetaData(),
    Column("venue_id", Integer),
    Column("event_id", Integer),
    Column("location", geosql.GEOGRAPHY_POINT),
    Column("effective_at", DateTime(timezone=True)),
)
AT = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)


def sql(expression) -> str:
    return str(
        expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def test_a_point_is_a_wgs84_geography_in_lon_lat_order():
    compiled = sql(geosql.point(LatLon(40.73, -73.98)))
    assert "-73.98" in compiled and compiled.index("-73.98") < compiled.index("40.73")
    assert "4326" in compiled and "geography" in compiled.lower()


def test_within_is_st_dwithin_in_metres():
    compiled = sql(geosql.within_m(checkins.c.location, geosql.point(LatLon(1, 2)), 75.0))
    assert compiled.startswith("ST_DWithin(checkins.location,") and compiled.endswith(", 75.0)")


def test_nearest_first_uses_the_knn_operator_unless_told_not_to():
    here = geosql.point(LatLon(1, 2))
    assert "<->" in sql(geosql.nearest_first(checkins.c.location, here))
    assert sql(geosql.nearest_first(checkins.c.location, here, use_index=False)).startswith(
        "ST_Distance("
    )


def test_a_meeting_is_the_same_venue_75_m_or_the_same_event_within_two_hours():
    place = sql(
        meetings.same_place(
            checkins.c.venue_id,
            checkins.c.location,
            venue_id=7,
            venue_location=geosql.point(LatLon(1, 2)),
            event_column=checkins.c.event_id,
            event_id=9,
        )
    )
    assert "checkins.venue_id = 7" in place and "checkins.event_id = 9" in place
    assert "ST_DWithin(checkins.location," in place and ", 75.0)" in place
    time = sql(meetings.same_time(checkins.c.effective_at, AT))
    assert "'2026-06-10 14:00:00+00:00'" in time and "'2026-06-10 18:00:00+00:00'" in time
