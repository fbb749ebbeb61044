"""Venue footfall: who may see it, what counts, suppression, DST, CSV, rollup = raw."""

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from service.database import db
from service.footfall import backfill, fold, from_raw, from_rollup, rollup
from service.footfall import service as footfall_service
from service.footfall.grid import make_range
from service.footfall.schemas import StatsSchema
from service.models import (
    User,
    VenueHour,
    VenueStaff,
    VenueVisit,
    VenueVisitChange,
    VenueVisitor,
    VenueVisitorDay,
)
from tests.conftest import offset_point

NEW_YORK = (40.7306, -73.9866)


@pytest.fixture
def owned(client, actions, runner):
    """An owner with an approved claim on a New York venue, and an admin."""
    owner = actions.register()
    venue = actions.venue(owner, *NEW_YORK, name="Owned Bar")
    claim = client.post(f"/api/v1/venues/{venue['id']}/claim", headers=owner["headers"], json={})
    assert claim.status_code == 201
    assert runner.invoke(args=["approve-claim", str(claim.json["id"])]).exit_code == 0
    return owner, venue


def stats(client, user, venue, **params):
    return client.get(
        f"/api/v1/venues/{venue['id']}/stats", headers=user["headers"], query_string=params
    )


def summaries(session) -> list:
    """Every row of the footfall summaries once the logged changes are folded (as the
    worker does), zero rows left out (deltas may leave them)."""
    fold.fold(session)
    found = []
    for model, kept in (
        (VenueHour, VenueHour.visits != 0),
        (VenueVisitor, True),
        (VenueVisitorDay, (VenueVisitorDay.firsts != 0) | (VenueVisitorDay.lasts != 0)),
    ):
        table = model.__table__
        query = select(table).where(kept).order_by(*table.primary_key.columns)
        found.append(session.execute(query).all())
    return found


def rebuilt_summaries(session) -> list:
    """The summaries as a rebuild of the rollup from history makes them."""
    backfill.rebuild(db_session=session)
    return summaries(session)


def visit(actions, people, venue, **extra):
    for person in people:
        response = actions.check_in(person, venue, **extra)
        assert response.status_code == 201, response.json


def test_who_may_see_a_venues_footfall(client, actions, owned, runner):
    owner, venue = owned
    stranger = actions.register()
    claimant = actions.register()
    pending = client.post(
        f"/api/v1/venues/{venue['id']}/claim", headers=claimant["headers"], json={}
    )
    assert pending.status_code == 409  # it has an owner now
    other_owner = actions.register()
    other_venue = actions.venue(other_owner, *offset_point(NEW_YORK, 500))
    claim = client.post(
        f"/api/v1/venues/{other_venue['id']}/claim", headers=other_owner["headers"], json={}
    )
    waiting = actions.register()
    third = actions.venue(waiting, *offset_point(NEW_YORK, 900))
    assert (
        client.post(f"/api/v1/venues/{third['id']}/claim", headers=waiting["headers"], json={})
    ).status_code == 201
    runner.invoke(args=["approve-claim", str(claim.json["id"])])
    admin = actions.register()
    runner.invoke(args=["make-admin", admin["user"]["handle"]])
    for path in ("stats", "stats.csv"):
        url = f"/api/v1/venues/{venue['id']}/{path}"
        assert client.get(url, headers=stranger["headers"]).status_code == 403
        assert client.get(url, headers=other_owner["headers"]).status_code == 403
        assert client.get(url, headers=owner["headers"]).status_code == 200
        assert client.get(url, headers=admin["headers"]).status_code == 200
        assert client.get(url).status_code == 401
        # a claimant is not an owner before approval, not even the venue's creator
        third_url = f"/api/v1/venues/{third['id']}/{path}"
        assert client.get(third_url, headers=waiting["headers"]).status_code == 403
    assert client.get("/api/v1/venues/999999999/stats", headers=admin["headers"]).status_code == 404
    audit = client.get("/api/v1/admin/audit", headers=admin["headers"]).json["items"]
    assert "venue.stats" in [entry["action"] for entry in audit]


def test_suppressed_below_five_distinct_visitors(client, actions, owned, frozen_clock):
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    four = [actions.register() for _ in range(4)]
    visit(actions, four, venue)
    frozen_clock.advance(hours=2)
    visit(actions, four[:1], venue)  # 5 check-ins, still 4 people
    body = stats(client, owner, venue, **{"from": "2026-06-10", "to": "2026-06-10"}).json
    assert body["suppressed"] is True and body["total_checkins"] is None
    assert body["series"] == [
        {
            "start": "2026-06-10T00:00:00-04:00",
            "checkins": None,
            "visitors": None,
            "new_visitors": None,
            "returning_visitors": None,
            "meetings": None,
            "suppressed": True,
        }
    ]
    assert body["weekday_hour"][2][12] == {"checkins": None, "suppressed": True}
    assert body["peak_hour"] is None
    visit(actions, [actions.register()], venue)
    body = stats(client, owner, venue, **{"from": "2026-06-10", "to": "2026-06-10"}).json
    assert body["suppressed"] is False
    assert (body["total_checkins"], body["unique_visitors"], body["new_visitors"]) == (6, 5, 5)
    assert body["series"][0]["visitors"] == 5
    # 12:00 (four) and 14:00 (two) on a Wednesday: each hour fewer than five people
    assert body["weekday_hour"][2][12]["suppressed"] and body["weekday_hour"][2][14]["suppressed"]


def test_what_counts_as_footfall(client, actions, owned, frozen_clock):
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    people = [actions.register() for _ in range(6)]
    visit(actions, people, venue)
    far = offset_point(NEW_YORK, 2000)
    visit(actions, people[:2], venue, lat=far[0], lon=far[1])  # too_far: not there
    visit(actions, people[:1], venue, accuracy_m=900)  # imprecise
    frozen_clock.advance(minutes=10)
    visit(actions, people[:3], venue)  # too_soon: still footfall
    body = stats(client, owner, venue, **{"from": "2026-06-10", "to": "2026-06-10"}).json
    assert body["total_checkins"] == 9 and body["unique_visitors"] == 6


def test_a_checkin_only_logs_its_visit_and_a_stats_read_folds_it(
    client, actions, owned, frozen_clock, app
):
    """The summaries are no check-in's work (migration 0016): a check-in appends its visit
    row's change; the stats read folds what the worker has not, so it is never behind."""
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    visit(actions, [actions.register() for _ in range(5)], venue)
    with app.app_context():
        session = db.session
        hours = select(func.count()).select_from(VenueHour).where(VenueHour.venue_id == venue["id"])
        logged = select(func.count()).select_from(VenueVisitChange)
        assert session.scalar(hours) == 0 and session.scalar(logged) == 5
    elsewhere = actions.venue(owner, *offset_point(NEW_YORK, 400), name="Elsewhere")
    visit(actions, [actions.register()], elsewhere)
    body = stats(client, owner, venue, **{"from": "2026-06-10", "to": "2026-06-10"}).json
    assert body["total_checkins"] == 5 and body["unique_visitors"] == 5
    with app.app_context():  # this venue's changes folded, the other venue's left to the worker
        assert db.session.scalar(logged) == 1 and db.session.scalar(hours) == 1


def answer_invitation(app, venue, person, status, at=None):
    """Accept (at ``at``) or decline an owner's staff invitation straight in the database.

    Stands in for ``POST /me/staff-invitations/{id}/accept`` (or ``/decline``) until the
    invitation API is there."""
    with app.app_context():
        db.session.execute(
            update(VenueStaff)
            .where(VenueStaff.venue_id == venue["id"], VenueStaff.user_id == person["user"]["id"])
            .values(status=status, accepted_at=at, decided_at=at or datetime.now(UTC))
        )
        db.session.commit()


def test_the_staff_list_is_the_owners_and_an_invitation_changes_nothing(
    client, actions, owned, frozen_clock
):
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    people = [actions.register() for _ in range(6)]
    visit(actions, people, venue)
    barista = people[0]["user"]["handle"]
    stranger = actions.register()
    url = f"/api/v1/venues/{venue['id']}/staff"
    assert client.put(f"{url}/{barista}", headers=stranger["headers"]).status_code == 403
    assert client.put(f"{url}/{barista}", headers=owner["headers"]).status_code == 201
    assert client.put(f"{url}/{barista}", headers=owner["headers"]).status_code == 200
    assert client.put(f"{url}/nobody_at_all", headers=owner["headers"]).status_code == 404
    assert [p["handle"] for p in client.get(url, headers=owner["headers"]).json["items"]] == [
        barista
    ]
    frozen_clock.advance(hours=3)
    visit(actions, people[:1], venue)  # invited, not accepted: counts like anyone
    body = stats(client, owner, venue, **{"from": "2026-06-10", "to": "2026-06-10"}).json
    assert body["unique_visitors"] == 6 and body["total_checkins"] == 7
    assert client.delete(f"{url}/{barista}", headers=owner["headers"]).status_code == 204
    assert client.delete(f"{url}/{barista}", headers=owner["headers"]).status_code == 404


def test_accepted_staff_are_left_out_from_the_hour_after_they_accept(
    app, client, actions, owned, frozen_clock
):
    owner, venue = owned
    barista, declined, *regulars = [actions.register() for _ in range(7)]
    url = f"/api/v1/venues/{venue['id']}/staff"
    for person in (barista, declined):
        response = client.put(f"{url}/{person['user']['handle']}", headers=owner["headers"])
        assert response.status_code == 201
    answer_invitation(app, venue, declined, "declined")
    frozen_clock.current = datetime(2026, 6, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York
    visit(actions, [barista, *regulars[:2]], venue)  # before accepting: counts
    accepted_at = datetime(2026, 6, 10, 16, 20, tzinfo=UTC)  # 12:20
    answer_invitation(app, venue, barista, "accepted", accepted_at)
    frozen_clock.current = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)  # 14:00
    visit(actions, [barista, declined, *regulars], venue)  # the barista's is left out
    late = (accepted_at - timedelta(minutes=50)).isoformat()  # 11:30, sent at 14:00
    assert actions.check_in(barista, venue, client_time=late).status_code == 201  # counts
    day = {"from": "2026-06-10", "to": "2026-06-10"}
    body = stats(client, owner, venue, **day).json
    # 7 people; check-ins: 3 at 09:00, 6 at 14:00 (not the barista's), the 11:30 replay
    assert (body["unique_visitors"], body["total_checkins"]) == (7, 10)
    frozen_clock.advance(days=1)
    visit(actions, [barista, *regulars], venue)
    next_day = stats(client, owner, venue, **{"from": "2026-06-11", "to": "2026-06-11"}).json
    assert next_day["unique_visitors"] == 5 and next_day["total_checkins"] == 5
    utc = stats(client, owner, venue, tz="UTC", **{"from": "2026-06-11", "to": "2026-06-11"})
    assert utc.json["source"] == "raw" and utc.json["total_checkins"] == 5


def test_naming_a_regular_as_staff_never_changes_past_figures(
    app, client, actions, owned, frozen_clock
):
    """The attack: an owner reads a past range, names a regular as staff and reads it
    again, hoping the difference shows that person's visits. Nothing moves, whether the
    regular only got the invitation or accepted it; the rollup is not rewritten either."""
    owner, venue = owned
    regular, *others = [actions.register() for _ in range(9)]
    frozen_clock.current = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    for day in range(10):
        visit(actions, [regular, *others[day % 3 : day % 3 + 6]], venue)
        frozen_clock.advance(days=1, minutes=37)
    queries = [
        {"from": "2026-06-01", "to": "2026-06-10"},
        {"from": "2026-06-03", "to": "2026-06-05", "granularity": "hour"},
        {"from": "2026-06-01", "to": "2026-06-10", "granularity": "week"},
        {"from": "2026-06-02", "to": "2026-06-09", "tz": "Europe/Paris"},  # the raw reader
    ]

    def read_all() -> list:
        return [stats(client, owner, venue, **query).json for query in queries] + [
            client.get(
                f"/api/v1/venues/{venue['id']}/stats.csv",
                headers=owner["headers"],
                query_string=queries[0],
            ).text
        ]

    def rollup() -> list:
        with app.app_context():
            visits = select(VenueVisit.__table__).order_by(*VenueVisit.__table__.c)
            return [*summaries(db.session), db.session.execute(visits).all()]

    before, kept = read_all(), rollup()
    assert before[0]["unique_visitors"] == 9 and before[0]["total_checkins"] == 70
    handle = regular["user"]["handle"]
    response = client.put(f"/api/v1/venues/{venue['id']}/staff/{handle}", headers=owner["headers"])
    assert response.status_code == 201
    assert read_all() == before and rollup() == kept  # invited
    answer_invitation(app, venue, regular, "accepted", frozen_clock.current)
    assert read_all() == before and rollup() == kept  # accepted: the past stays as it was
    frozen_clock.advance(hours=1)
    visit(actions, [regular, *others[:5]], venue)  # from the next hour they are left out
    today = frozen_clock.current.date().isoformat()
    assert stats(client, owner, venue, **{"from": today, "to": today}).json["unique_visitors"] == 5
    # removing them (or their leaving) must not bring their staff-time visits back either
    everything = [{"from": "2026-06-01", "to": today}, {"from": today, "to": today}]
    seen = [stats(client, owner, venue, **query).json for query in everything]
    removed = client.delete(
        f"/api/v1/venues/{venue['id']}/staff/{handle}", headers=owner["headers"]
    )
    assert removed.status_code == 204
    assert [stats(client, owner, venue, **query).json for query in everything] == seen


def test_a_daylight_saving_day(client, actions, owned, frozen_clock):
    """New York falls back on 2026-11-01: that day has 25 hours, two of them 01:00."""
    owner, venue = owned
    people = [actions.register() for _ in range(5)]
    frozen_clock.current = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    visit(actions, people, venue)
    frozen_clock.current = datetime(2026, 11, 1, 6, 40, tzinfo=UTC)  # 01:40 EST
    visit(actions, people, venue)
    frozen_clock.current = datetime(2026, 11, 2, 4, 50, tzinfo=UTC)  # 23:50 EST, Nov 1
    visit(actions, people, venue)
    day = {"from": "2026-11-01", "to": "2026-11-01"}
    hours = stats(client, owner, venue, granularity="hour", **day).json["series"]
    assert len(hours) == 25
    by_start = {h["start"]: h["checkins"] for h in hours if not h["suppressed"]}
    assert by_start == {
        "2026-11-01T01:00:00-04:00": 5,
        "2026-11-01T01:00:00-05:00": 5,
        "2026-11-01T23:00:00-05:00": 5,
    }
    days = stats(client, owner, venue, **{"from": "2026-10-31", "to": "2026-11-02"}).json
    assert [d["checkins"] for d in days["series"]] == [None, 15, None]
    assert days["weekday_hour"][6][1]["checkins"] == 10  # Sunday 01:00, both of them
    spring = stats(
        client, owner, venue, granularity="hour", **{"from": "2026-03-08", "to": "2026-03-08"}
    ).json["series"]
    assert len(spring) == 23 and "T02:00" not in " ".join(h["start"] for h in spring)
    utc = stats(client, owner, venue, tz="UTC", **{"from": "2026-11-01", "to": "2026-11-02"}).json
    assert utc["source"] == "raw"
    assert [d["checkins"] for d in utc["series"]] == [10, 5]  # 23:50 EST is Nov 2 in UTC


def test_csv_equals_json(client, actions, owned, frozen_clock):
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 8, 14, 0, tzinfo=UTC)
    people = [actions.register() for _ in range(7)]
    for day in range(3):
        visit(actions, people[: 5 + day], venue)
        frozen_clock.advance(days=1)
    params = {"from": "2026-06-06", "to": "2026-06-12"}
    body = stats(client, owner, venue, **params).json
    assert (body["from"], body["to"], body["tz"]) == ("2026-06-06", "2026-06-12", venue["timezone"])
    response = client.get(
        f"/api/v1/venues/{venue['id']}/stats.csv", headers=owner["headers"], query_string=params
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    number = lambda v: None if v == "" else int(v)  # noqa: E731
    (total,) = [r for r in rows if r["section"] == "total"]
    assert number(total["checkins"]) == body["total_checkins"]
    assert number(total["visitors"]) == body["unique_visitors"]
    assert number(total["new_visitors"]) == body["new_visitors"]
    series = [r for r in rows if r["section"] == "day"]
    assert [r["start"] for r in series] == [b["start"] for b in body["series"]]
    assert [number(r["checkins"]) for r in series] == [b["checkins"] for b in body["series"]]
    assert [r["suppressed"] == "true" for r in series] == [b["suppressed"] for b in body["series"]]
    cells = [r for r in rows if r["section"] == "weekday_hour"]
    assert len(cells) == 168
    assert [number(r["checkins"]) for r in cells] == [
        c["checkins"] for row in body["weekday_hour"] for c in row
    ]
    handles = {p["user"]["handle"] for p in people}
    assert not any(h in response.text or h in str(body) for h in handles)


def test_stats_json_is_what_its_schema_dumps(client, owned, frozen_clock, actions, app):
    """The route writes the JSON itself (speed); it must be what StatsSchema documents."""
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 8, 14, 0, tzinfo=UTC)
    visit(actions, [actions.register() for _ in range(6)], venue)
    body = stats(client, owner, venue, **{"from": "2026-06-01", "to": "2026-06-08"}).json
    with app.app_context():
        user = db.session.get(User, owner["user"]["id"])
        expected = footfall_service.stats(
            db_session=db.session, user=user, venue_id=venue["id"],
            first=date(2026, 6, 1), last=date(2026, 6, 8),
        )  # fmt: skip
        assert body == StatsSchema().dump(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-06-10", "to": "2026-06-01"},
        {"from": "yesterday"},
        {"granularity": "minute"},
        {"tz": "Mars/Olympus"},
        {"granularity": "hour", "from": "2026-01-01", "to": "2026-03-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_stats_queries(client, owned, params):
    owner, venue = owned
    response = stats(client, owner, venue, **params)
    assert response.status_code == 422 and response.json["message"]


@pytest.mark.slow
def test_rollups_equal_raw_aggregation_after_random_checkins(
    client, actions, owned, frozen_clock, app, monkeypatch
):
    owner, venue = owned
    rng = random.Random(7)
    other = actions.venue(owner, *offset_point(NEW_YORK, 60), name="Next door")
    people = [actions.register() for _ in range(12)]
    for person in people[:3]:
        client.put(
            f"/api/v1/venues/{venue['id']}/staff/{person['user']['handle']}",
            headers=owner["headers"],
        )
    # accepted mid-way (the readers agree on any acceptance time), declined, invited
    answer_invitation(app, venue, people[0], "accepted", datetime(2026, 10, 29, 15, 40, tzinfo=UTC))
    answer_invitation(app, venue, people[1], "declined")
    frozen_clock.current = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    for _ in range(260):
        frozen_clock.advance(minutes=rng.randint(5, 240))
        person = rng.choice(people)
        where = venue if rng.random() < 0.8 else other
        extra = {}
        if rng.random() < 0.25:  # an offline check-in replayed up to 20 hours late
            extra["client_time"] = (
                frozen_clock.current - timedelta(minutes=rng.randint(1, 1200))
            ).isoformat()
        if rng.random() < 0.1:
            extra["accuracy_m"] = 900  # imprecise: not footfall
        assert actions.check_in(person, where, **extra).status_code == 201
    with app.app_context():
        session = db.session
        assert fold.fold(session) > 0  # what the worker does every second
        for first, last, granularity in (
            (date(2026, 10, 20), frozen_clock.current.date(), "day"),
            (date(2026, 10, 25), date(2026, 11, 7), "day"),
            (date(2026, 10, 20), frozen_clock.current.date(), "week"),
            (date(2026, 10, 29), date(2026, 11, 4), "hour"),
        ):
            span = make_range(first, last, "America/New_York", granularity)
            slow = from_raw.figures(session, venue["id"], span)
            for scan_rows in (from_rollup.SCAN_ROWS, 0):  # a short range's way, a long one's
                monkeypatch.setattr(from_rollup, "SCAN_ROWS", scan_rows)
                fast = from_rollup.figures(session, venue["id"], span)
                assert fast.total.checkins > 0
                assert fast == slow, (first, last, granularity, scan_rows)
            # both ways of counting a long range's visitors, whichever the figures chose
            params = from_rollup.span_params(venue["id"], span)
            for way in (from_rollup.visitors_from_days, from_rollup.first_visits_in_range):
                assert session.scalar(way(), params) == slow.total.visitors, way
        assert summaries(session) == rebuilt_summaries(session)
        # an account deleted: its visits go first, logged, and the summaries follow
        rollup.forget_visitor(db_session=session, user_id=people[1]["user"]["id"])
        session.execute(text("DELETE FROM users WHERE id = :id"), {"id": people[1]["user"]["id"]})
        fold.fold(session)
        span = make_range(
            date(2026, 10, 20), frozen_clock.current.date(), "America/New_York", "day"
        )
        assert from_rollup.figures(session, venue["id"], span) == from_raw.figures(
            session, venue["id"], span
        )
        assert summaries(session) == rebuilt_summaries(session)
        # rebuilding the rollup from history gives the very rows kept as check-ins came
        kept = session.execute(select(VenueVisit.__table__).order_by(*VenueVisit.__table__.c)).all()
        backfill.rebuild(db_session=session)
        rebuilt = session.execute(
            select(VenueVisit.__table__).order_by(*VenueVisit.__table__.c)
        ).all()
        assert len(kept) > 100 and rebuilt == kept


def test_stats_statements_are_never_prepared(client, actions, owned, frozen_clock, app):
    """A prepared statement may fall back to a generic plan after five runs, made for any
    range (a year's raw aggregation then timed out): footfall statements stay unprepared."""
    _owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 8, 14, 0, tzinfo=UTC)
    visit(actions, [actions.register() for _ in range(5)], venue)
    with app.app_context():
        session = db.session
        span = make_range(date(2026, 6, 1), date(2026, 6, 8), "America/New_York", "day")
        for _ in range(8):
            from_rollup.figures(session, venue["id"], span)
            from_raw.figures(session, venue["id"], span)
        prepared = session.scalar(
            text(
                "SELECT count(*) FROM pg_prepared_statements"
                " WHERE statement LIKE '%venue_hours%' OR statement LIKE '%grouping(%'"
            )
        )
        assert prepared == 0


def small(number) -> bool:
    return number is not None and 0 < number < 5


def worked_out(body) -> list[int]:
    """The attack: every number an owner gets by subtracting shown figures of one answer
    (the totals less the shown buckets, per figure; visitors less new or returning)."""
    found = []
    for row in [body, *body["series"]]:
        visitors = row.get("unique_visitors", row.get("visitors"))
        for part in ("new_visitors", "returning_visitors"):
            if visitors is not None and row[part] is not None:
                found.append(visitors - row[part])
    totals = {
        "checkins": body["total_checkins"],
        "visitors": body["unique_visitors"],
        "new_visitors": body["new_visitors"],
        "returning_visitors": body["returning_visitors"],
    }
    for figure, total in totals.items():
        if total is not None:
            found.append(total - sum(b[figure] or 0 for b in body["series"]))
    if body["total_checkins"] is not None:
        cells = [c["checkins"] or 0 for row in body["weekday_hour"] for c in row]
        found.append(body["total_checkins"] - sum(cells))
    return found


def test_a_small_group_cannot_be_worked_out_from_the_totals(client, actions, owned, frozen_clock):
    owner, venue = owned
    crowd, pair, later = ([actions.register() for _ in range(n)] for n in (6, 2, 7))
    frozen_clock.current = datetime(2026, 6, 8, 22, 0, tzinfo=UTC)  # Monday 18:00
    visit(actions, crowd, venue)
    frozen_clock.current = datetime(2026, 6, 9, 7, 0, tzinfo=UTC)  # Tuesday 03:00: two people
    visit(actions, pair, venue)
    frozen_clock.current = datetime(2026, 6, 10, 22, 0, tzinfo=UTC)  # Wednesday 18:00
    visit(actions, later, venue)
    days = stats(client, owner, venue, **{"from": "2026-06-08", "to": "2026-06-10"}).json
    assert (days["total_checkins"], days["unique_visitors"], days["new_visitors"]) == (15, 15, 15)
    assert days["series"][1]["suppressed"]
    # without a second hidden day, 15 - 6 - 7 = 2 would be the night's pair
    assert [b["suppressed"] for b in days["series"]] == [True, True, False]
    # the grid: the pair's cell, and a second one with it
    cells = [(w, h) for w, row in enumerate(days["weekday_hour"]) for h, c in enumerate(row)]
    shown = [cell for cell in cells if not days["weekday_hour"][cell[0]][cell[1]]["suppressed"]]
    assert shown == [(2, 18)] and days["peak_hour"]["weekday_name"] == "Wednesday"
    hours = stats(
        client, owner, venue, granularity="hour", **{"from": "2026-06-08", "to": "2026-06-10"}
    ).json
    week = stats(client, owner, venue, granularity="week", **{"from": "2026-06-08"}).json
    utc = stats(client, owner, venue, tz="UTC", **{"from": "2026-06-08", "to": "2026-06-11"}).json
    for body in (days, hours, week, utc):
        assert not [n for n in worked_out(body) if small(n)], worked_out(body)
    # the normal case still shows numbers
    assert hours["total_checkins"] == 15 and week["series"][0]["checkins"] == 15


def test_new_and_returning_visitors_hide_together(client, actions, owned, frozen_clock):
    owner, venue = owned
    regulars = [actions.register() for _ in range(8)]
    frozen_clock.current = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
    visit(actions, regulars, venue)
    frozen_clock.current = datetime(2026, 6, 8, 16, 0, tzinfo=UTC)
    visit(actions, [*regulars, actions.register(), actions.register()], venue)  # two new
    one_day = stats(client, owner, venue, **{"from": "2026-06-08", "to": "2026-06-08"}).json
    assert one_day["unique_visitors"] == 10 and one_day["total_checkins"] == 10
    assert one_day["new_visitors"] is None and one_day["returning_visitors"] is None
    both = stats(client, owner, venue, **{"from": "2026-06-01", "to": "2026-06-08"}).json
    assert (both["unique_visitors"], both["new_visitors"], both["returning_visitors"]) == (
        10,
        10,
        0,
    )
    first, *_, last = both["series"]
    assert last["visitors"] == 10 and last["new_visitors"] is None
    # 10 new in all, 8 shown on June 1 would leave the 2: June 1's are hidden too
    assert first["visitors"] == 8 and first["new_visitors"] is None
    for body in (one_day, both):
        assert not [n for n in worked_out(body) if small(n)], worked_out(body)


def test_hidden_returning_total_is_not_the_sum_of_shown_new_buckets(
    client, actions, owned, frozen_clock
):
    """Found in review: 2 returning visitors in the totals were hidden, but every day's
    new visitors were shown; new visitors add up, so 20 - (13 + 5) gave the 2 back."""
    owner, venue = owned
    before = [actions.register() for _ in range(2)]
    day_one = [actions.register() for _ in range(13)]
    day_two_new = [actions.register() for _ in range(5)]
    frozen_clock.current = datetime(2026, 5, 20, 16, 0, tzinfo=UTC)
    visit(actions, before, venue)  # before the range
    frozen_clock.current = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
    visit(actions, day_one, venue)
    frozen_clock.current = datetime(2026, 6, 2, 16, 0, tzinfo=UTC)
    visit(actions, [*day_two_new, *day_one[:3], *before], venue)
    body = stats(client, owner, venue, **{"from": "2026-06-01", "to": "2026-06-02"}).json
    assert body["unique_visitors"] == 20
    assert body["new_visitors"] is None and body["returning_visitors"] is None
    shown_new = [b["new_visitors"] for b in body["series"] if b["new_visitors"] is not None]
    assert len(shown_new) < len(body["series"]), body["series"]
    assert not [n for n in worked_out(body) if small(n)], worked_out(body)


def test_meetings_of_fewer_than_five_people_are_hidden(
    client, actions, friends, owned, frozen_clock
):
    owner, venue = owned
    frozen_clock.current = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    pair = friends(2)
    visit(actions, [*pair, *(actions.register() for _ in range(4))], venue)
    day = {"from": "2026-06-10", "to": "2026-06-10"}
    body = stats(client, owner, venue, **day).json
    assert body["unique_visitors"] == 6 and body["meetings"] is None  # two people met
    assert body["series"][0]["meetings"] is None and body["series"][0]["visitors"] == 6
    frozen_clock.advance(minutes=5)
    for _ in range(2):
        visit(actions, friends(2), venue)
    body = stats(client, owner, venue, **day).json
    assert body["meetings"] == 3 and body["series"][0]["meetings"] == 3  # six people


def test_a_meeting_across_two_nearby_venues_is_hosted_by_both(
    client, actions, friends, owned, runner, frozen_clock
):
    """Check-ins at the same event in two venues 40 m apart: each meeting counts in the
    "meetings hosted" of both venues (each hosted one side of it), not only the venue of
    the earlier check-in."""
    owner, venue = owned
    annex = actions.venue(owner, *offset_point(NEW_YORK, 40), name="Owned annex")
    claim = client.post(f"/api/v1/venues/{annex['id']}/claim", headers=owner["headers"], json={})
    assert runner.invoke(args=["approve-claim", str(claim.json["id"])]).exit_code == 0
    frozen_clock.current = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)
    event = client.post(
        "/api/v1/events",
        headers=owner["headers"],
        json={
            "title": "Meetup across the courtyard",
            "venue_id": venue["id"],
            "starts_at": frozen_clock.current.isoformat(),
            "ends_at": (frozen_clock.current + timedelta(hours=3)).isoformat(),
        },
    ).json
    for _ in range(3):
        here, there = friends(2)
        visit(actions, [here], venue, event_id=event["id"])
        frozen_clock.advance(minutes=5)
        response = actions.check_in(there, annex, event_id=event["id"])
        assert len(response.json["meetings"]) == 1
    passers_by = [actions.register() for _ in range(2)]
    visit(actions, passers_by, venue)  # five visitors at each venue: figures are shown
    visit(actions, passers_by, annex)
    day = {"from": "2026-06-10", "to": "2026-06-10"}
    for place in (venue, annex):
        body = stats(client, owner, place, **day).json
        assert body["meetings"] == 3, (place["name"], body)
