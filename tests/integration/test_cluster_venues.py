"""`cluster-venues`: the table rewritten in place order, every index rebuilt, nothing lost."""

import random

from sqlalchemy import text

from service.database import db
from service.venues.maintenance import SORT_INDEX
from tests.conftest import Actions


def test_rewrites_venues_in_geohash_order_and_keeps_search(live_app):
    """Committed for real: the command runs in its own transaction, as an operator's does
    (on Citus a rewrite cannot follow the same transaction's reads of the table)."""
    app, client = live_app, live_app.test_client()
    runner, actions = app.test_cli_runner(), Actions(client)
    user = actions.register()
    rng = random.Random(3)
    made = [
        actions.venue(user, 40.7 + rng.uniform(-0.05, 0.05), -74.0 + rng.uniform(-0.05, 0.05))
        for _ in range(40)
    ]
    result = runner.invoke(args=["cluster-venues"])
    assert result.exit_code == 0, result.output
    assert "clustered by place" in result.output
    with app.app_context():
        session = db.session
        physical = session.scalars(text("SELECT id FROM venues ORDER BY ctid")).all()
        by_place = session.scalars(
            text("SELECT id FROM venues ORDER BY ST_GeoHash(location::geometry, 12), id")
        ).all()
        leftover = session.scalar(text("SELECT to_regclass(:name)"), {"name": SORT_INDEX})
    assert physical == by_place and len(physical) >= len(made)
    assert leftover is None
    here = made[0]["location"]
    found = client.get(
        "/api/v1/venues/nearby",
        headers=user["headers"],
        query_string={"lat": here["lat"], "lon": here["lon"], "radius_m": 50000, "limit": 100},
    ).json["items"]
    assert {venue["id"] for venue in made} <= {venue["id"] for venue in found}
