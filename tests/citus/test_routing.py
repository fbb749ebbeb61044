"""Every statement of a check-in runs on the checking-in user's shard, except the stated
cross-user ones (meeting candidates, the nearby fan-out, the met contact's side of a
meeting, the crowd badge) and the venue-keyed ones (one task on the venue's shard):
proven by ``EXPLAIN`` of each statement the request really sent, with its parameters.

The table of statements and their routing is printed and written to
``test-artifacts/citus-routing.txt`` (for docs/SCALING.md)."""

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from service.database import db
from tests.citus.routing import (
    ALL_SHARDS,
    COORDINATOR,
    PEOPLE,
    REFERENCE,
    VIA_COORDINATOR,
    Placement,
    captured,
    explained,
    stated,
    table,
)
from tests.conftest import Actions, befriend, offset_point

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "citus-routing.txt"
HERE = (40.7306, -73.9866)  # New York
ME, MET, NEAR = "me", "met", "near"
CHECKIN, NEARBY, FEED = "POST /api/v1/checkins", "GET /api/v1/venues/nearby", "GET /api/v1/feed"
SECTIONS = (CHECKIN, NEARBY, FEED)  # the artifact's, in this order

VENUE_KEYED = (
    r"\b(venue_visits|venue_visit_changes|venue_mayors|venue_visit_days|venue_staff|"
    r"mayorship_changes|venue_hours|venue_visitors|venue_visitor_days)\b"
)
# The first entry whose pattern matches a statement states it.
CHECKIN_STATED = (
    stated(
        "meeting candidates",
        r"\bFROM checkins\b.*\bcheckins\.user_id = ANY \(%\(contacts\)s",
        {PEOPLE, MET},
        "my mutual contacts' check-ins near here within two hours: their ids first (my "
        "shard), then checkins WHERE user_id = ANY(:contacts) on their shards only",
    ),
    stated(
        "meeting rows",
        r"^(INSERT INTO meetings|UPDATE meetings SET first_time|"
        r"UPDATE relationships SET met_in_person)",
        PEOPLE,
        "a meeting is kept on both sides: my row and relationship on my shard, the met "
        "contact's on theirs, in one statement for both",
    ),
    stated(
        "the met contact's rewards",
        r"^(WITH line AS \(INSERT INTO points_ledger|SELECT user_badges\.badge, "
        r"user_badges\.level FROM user_badges WHERE user_badges\.user_id = %\(u\)s|"
        r"SELECT count\(\*\) AS count_1 FROM \(SELECT DISTINCT meetings\.other_id|"
        r"INSERT INTO user_badges)",
        MET,
        "the met contact earns points and may earn a badge: written on their shard",
    ),
    stated(
        "the met contact's face",
        r"^SELECT identities\..* WHERE identities\.user_id = ANY \(%\(people\)s",
        {MET, PEOPLE},
        "the met contact's verified identities for the answer (faces.of_contacts: the "
        "mutual pairs on my shard, then their identities on theirs)",
    ),
    stated(
        "nearby fan-out",
        r"FROM users AS receiver WHERE receiver\.id = ANY \(%\(contacts\)s",
        {PEOPLE, NEAR},
        "which contacts (ids from my shard) are near, want to be told and were not told "
        "lately: users and notifications on their shards",
    ),
    stated(
        "nearby quotas",
        r"^INSERT INTO nearby_quotas",
        VIA_COORDINATOR,
        "the told contacts' daily quota rows: INSERT…SELECT FROM unnest has no "
        "distributed FROM, so Citus pulls the rows to the coordinator and inserts each "
        "on its receiver's shard",
    ),
    stated(
        "crowd badge",
        r"^SELECT checkins\.user_id, checkins\.id, checkins\.effective_at FROM checkins "
        r"WHERE checkins\.venue_id = ",
        ALL_SHARDS,
        "who else checked in at this venue around now: check-ins are placed by user, so "
        "a venue's are on every shard (a venue-keyed table would make it one task)",
    ),
    stated(
        "first visit rows",
        r"^WITH new_user_venues AS \(INSERT INTO user_venues",
        VIA_COORDINATOR,
        "first visit to the venue and city: user_venues, user_cities (my shard) and "
        "venue_visit_days (the venue's) in one statement of INSERT…SELECTs of "
        "parameters, each pulled to the coordinator and inserted by its key",
    ),
    stated(
        "my points and counters",
        r"^WITH lines AS \(INSERT INTO points_ledger",
        VIA_COORDINATOR,
        "my ledger lines (INSERT…SELECT FROM unnest: pulled to the coordinator, inserted "
        "on my shard), my check-in's points and my counters (routed to my shard)",
    ),
    stated(
        "notification recipients",
        r"^SELECT users\.id, coalesce\(users\.timezone.* WHERE users\.id = "
        r"ANY \(%\(user_ids\)s",
        PEOPLE,
        "the outbox: time zone, quiet hours and devices of everyone this check-in "
        "notifies (me, the met contact, the nearby one), on their shards",
    ),
    stated(
        "notifications",
        r"^INSERT INTO notifications",
        VIA_COORDINATOR,
        "every notification of the check-in in one INSERT…SELECT FROM unnest: pulled to "
        "the coordinator, each row inserted on its receiver's shard",
    ),
    stated(
        "venue-keyed aggregates",
        VENUE_KEYED,
        "venue",
        "footfall visits and their change log, the mayor and the mayorship count are "
        "placed by venue: one task on the venue's shard (another colocation group)",
    ),
)
READS_STATED = (
    stated(
        "nearby venues",
        r"FROM venues .*ORDER BY",
        REFERENCE,
        "venues is a reference table: the nearest-first search is one task on the "
        "coordinator's own copy",
    ),
    stated(
        "faces",
        r"^SELECT identities\..* WHERE identities\.user_id = ANY \(%\(people\)s",
        {PEOPLE, MET, NEAR},
        "the contacts' verified identities for their faces: the mutual pairs on my "
        "shard, then identities WHERE user_id = ANY(:people) on theirs",
    ),
    stated(
        "feed",
        r"FROM checkins .*checkins\.user_id = ANY",
        {PEOPLE, MET, NEAR},
        "my contacts' latest check-ins: their ids first (my shard), then "
        "checkins WHERE user_id = ANY(:ids) on their shards only",
    ),
)
# A rich check-in runs these; each must show up (else the scenario is too poor).
MUST_RUN = ("venue-keyed aggregates", "meeting candidates", "meeting rows", "nearby fan-out")


def _placed(conn, user_id: int) -> tuple[int, int]:
    """(shard, worker port) of ``user_id``'s users row."""
    row = conn.execute(
        text(
            "SELECT shardid, nodeport FROM citus_shards"
            " WHERE shardid = get_shard_id_for_distribution_column('users', :id)"
        ),
        {"id": user_id},
    ).one()
    return row.shardid, row.nodeport


def _people_on_separate_shards(actions: Actions, engine) -> dict[str, dict]:
    """Me, the contact I will meet (on the other worker) and a contact who will be near
    (on a third shard): so each one's statements can be told apart by shard."""
    chosen: dict[str, dict] = {}
    placed: dict[str, tuple[int, int]] = {}
    with engine.connect() as conn:
        for _ in range(16):
            person = actions.register()
            shard, node = _placed(conn, person["user"]["id"])
            if ME not in chosen:
                chosen[ME], placed[ME] = person, (shard, node)
            elif MET not in chosen and node != placed[ME][1]:
                chosen[MET], placed[MET] = person, (shard, node)
            elif NEAR not in chosen and shard not in {s for s, _ in placed.values()}:
                chosen[NEAR], placed[NEAR] = person, (shard, node)
            if len(chosen) == 3:
                return chosen
    raise AssertionError(f"no three users on separate shards in 16: {placed}")


@dataclass
class Scene:
    client: object
    actions: Actions
    people: dict[str, dict]
    cafe: dict
    placement: Placement
    engine: object  # the run's engine: EXPLAIN runs there, apart from the app's


@pytest.fixture
def scene(live_app, distributed, frozen_clock) -> Scene:
    """Me about to check in at a cafe whose mayor (a mutual contact) checked in there
    30 minutes ago, while another mutual contact checked in 300 m away."""
    client = live_app.test_client()
    actions = Actions(client)
    people = _people_on_separate_shards(actions, distributed)
    befriend(client, people[ME], people[MET])
    befriend(client, people[ME], people[NEAR])
    cafe = actions.venue(people[MET], *HERE, name="Cafe")
    bar = actions.venue(people[NEAR], *offset_point(HERE, 300), name="Bar")
    assert actions.check_in(people[MET], cafe).status_code == 201
    frozen_clock.advance(days=1)
    assert actions.check_in(people[MET], cafe).status_code == 201
    assert actions.check_in(people[NEAR], bar).status_code == 201
    frozen_clock.advance(minutes=30)
    mayor = client.get(f"/api/v1/venues/{cafe['id']}/mayor", headers=people[ME]["headers"])
    assert mayor.json["mayor"]["handle"] == people[MET]["user"]["handle"], mayor.json
    with distributed.connect() as conn:
        placement = Placement.read(
            conn, {name: p["user"]["id"] for name, p in people.items()}, cafe["id"]
        )
    return Scene(client, actions, people, cafe, placement, distributed)


def _check(statements, placement, stated_list) -> tuple[list[str], dict[int, str], set[str]]:
    """Problems (as sentences), the stated reason of each statement that has one (by
    position, from 1) and which stated statements ran. My own statements must run on my
    worker, coordinator-only ones must read no table, and every other one must be
    stated, on a routing its statement allows."""
    problems, reasons, seen = [], {}, set()
    for index, statement in enumerate(statements, 1):
        line = f"#{index} [{statement.routing}] {statement.one_line[:200]}"
        if statement.routing == COORDINATOR:
            if statement.local_tables:
                problems.append(f"reads local tables {statement.local_tables}: {line}")
            continue
        if statement.routing == ME:
            if statement.nodes != {placement.nodes[ME]}:
                problems.append(f"not on my worker {placement.nodes[ME]}: {line}")
            continue
        match = next((s for s in stated_list if s.matches(statement)), None)
        if match is None:
            problems.append(f"off my shard and not stated: {line}")
            continue
        seen.add(match.what)
        reasons[index] = f"{match.what}: {match.reason}"
        if statement.routing not in match.routings:
            problems.append(f"{match.what} should run on {set(match.routings)}: {line}")
    return problems, reasons, seen


def _write(title: str, section: str) -> None:
    """Print ``section`` and put it in the artifact in place of its last version."""
    print("\n" + section)
    kept = {}
    if ARTIFACT.exists():
        for chunk in re.split(r"(?m)^(?=## )", ARTIFACT.read_text()):
            known = next((t for t in SECTIONS if chunk.startswith(f"## {t}")), None)
            if known:
                kept[known] = chunk.rstrip() + "\n"
    kept[title] = section
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text("\n".join(kept[t] for t in SECTIONS if t in kept))


def test_a_rich_checkin_stays_on_my_shard_but_for_the_stated_statements(live_app, scene):
    people = scene.people
    with captured(db.state(live_app).engine) as statements:
        response = scene.actions.check_in(
            people[ME], scene.cafe, headers={"Idempotency-Key": "rich-1"}
        )
    assert response.status_code == 201, response.json
    met = [m["user"]["handle"] for m in response.json["meetings"]]
    assert met == [people[MET]["user"]["handle"]]
    notes = scene.client.get("/api/v1/me/notifications", headers=people[NEAR]["headers"])
    assert [n["kind"] for n in notes.json["items"]].count("nearby") == 1  # the fan-out ran

    planned = explained(scene.engine, statements, scene.placement)
    problems, reasons, seen = _check(planned, scene.placement, CHECKIN_STATED)
    where = ", ".join(f"{name} on {port}" for name, port in scene.placement.nodes.items())
    _write(CHECKIN, table(f"{CHECKIN} ({where})", planned, reasons))
    missing = [what for what in MUST_RUN if what not in seen]
    assert not missing, f"the check-in did not run {missing}: the scenario is too poor"
    assert not problems, "\n".join(problems)
    mine = [s for s in planned if s.routing == ME]
    assert any(s.one_line.startswith("INSERT INTO checkins") for s in mine)


def test_nearby_venues_and_the_feed_route_as_stated(live_app, scene):
    headers = scene.people[ME]["headers"]
    app_engine = db.state(live_app).engine
    with captured(app_engine) as nearby_statements:
        nearby = scene.client.get(
            f"/api/v1/venues/nearby?lat={HERE[0]}&lon={HERE[1]}", headers=headers
        )
    assert nearby.status_code == 200 and nearby.json["items"], nearby.json
    with captured(app_engine) as feed_statements:
        feed = scene.client.get("/api/v1/feed", headers=headers)
    assert feed.status_code == 200 and len(feed.json["items"]) >= 2, feed.json
    problems = []
    for title, statements in ((NEARBY, nearby_statements), (FEED, feed_statements)):
        planned = explained(scene.engine, statements, scene.placement)
        found, reasons, _seen = _check(planned, scene.placement, READS_STATED)
        problems += found
        _write(title, table(title, planned, reasons))
        if title == NEARBY:
            knn = [s for s in planned if s.routing == REFERENCE]
            assert knn, "the nearby search did not read the venues reference table alone"
            for statement in knn:  # one task, on the coordinator's own copy
                assert statement.task_counts == [1], statement.one_line
                assert statement.nodes == {scene.engine.url.port}, statement.one_line
    assert not problems, "\n".join(problems)
