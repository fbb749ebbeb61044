"""The nearby-venues statement against the same question on a geometry twin (README)."""

import psycopg
from geoalchemy2 import Geometry
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Table,
    bindparam,
    func,
    literal_column,
    select,
)

from bench.harness import pgbench, sql
from bench.harness.seed.venues import GEOMETRY_TWIN, METRES_PER_DEGREE, ensure_geometry_twin
from bench.phases.reads import nearby_statement
from bench.phases.run import Run
from geo import sql as geosql

SANITY_POINTS = 20
COLUMNS = ("name", "category", "address", "radius_m", "timezone", "owner_id", "deleted_at")


def statement():
    """The nearby question on the geometry twin, parameters as the service's."""
    from service.models import Venue

    venue = Venue.__table__
    twin = Table(
        GEOMETRY_TWIN,
        MetaData(),
        *(Column(name, venue.c[name].type) for name in ("id", *COLUMNS)),
        Column("geom", Geometry("POINT", 4326, spatial_index=False)),
    )
    lat, lon = bindparam("lat", type_=Float), bindparam("lon", type_=Float)
    here = func.ST_SetSRID(func.ST_MakePoint(lon, lat), literal_column("4326"))
    per_degree = literal_column(repr(METRES_PER_DEGREE), Float) * func.cos(func.radians(lat))
    degrees = bindparam("radius", type_=Float) / per_degree
    offset, limit = bindparam("offset", type_=Integer), bindparam("limit", type_=Integer)
    key = geosql.distance_m(twin.c.geom, here)  # in degrees here
    live = twin.c.deleted_at.is_(None)
    reach = (
        select(key.label("key"))
        .where(live, twin.c.geom.op("&&")(func.ST_Expand(here, degrees)))  # geometry's box
        .order_by(geosql.knn_order(twin.c.geom, here))
        .limit(limit + offset)
        .subquery()
    )
    bound = func.least(degrees, select(func.max(reach.c.key)).scalar_subquery())
    columns = (twin.c.id, *(twin.c[name] for name in COLUMNS[:-1]))
    return (
        select(*columns, func.ST_Y(twin.c.geom), func.ST_X(twin.c.geom), key.label("distance"))
        .where(live, geosql.within_m(twin.c.geom, here, bound), key <= degrees)
        .order_by(key, twin.c.id)
        .offset(offset)
        .limit(limit)
    )


def prepare(run: Run) -> dict:
    """The twin (built once) and its pgbench script; how alike the two answers are."""
    with psycopg.connect(run.conninfo, autocommit=True) as conn:
        built = ensure_geometry_twin(conn)
    text = sql.compiled(statement())
    values = {"radius": float(run.args.radius), "limit": int(run.args.limit), "offset": 0}
    run.files["geometry_sql"] = run.tmp / "geometry.sql"
    run.files["geometry_sql"].write_text(sql.positions_script(run.points, text, values))
    statements = ((text, values), nearby_statement(run))
    overlap = 0.0
    with psycopg.connect(run.conninfo, autocommit=True, options=run.options) as conn:
        for lat, lon in run.points[:SANITY_POINTS]:
            here = {"lat": round(lat, 6), "lon": round(lon, 6)}
            twin, served = (
                {row[0] for row in conn.execute(q, {**v, **here})} for q, v in statements
            )
            overlap += len(twin & served) / len(twin | served) if twin | served else 1.0
    return {"twin_built_s": built, "jaccard_vs_geography": round(overlap / SANITY_POINTS, 3)}


def measure(run: Run) -> dict[str, list]:
    """Both statements at c=1 and c=N, ``--rounds`` times round robin."""
    args, found = run.args, {}
    print(f"geometry against geography: {args.rounds} rounds ...", flush=True)
    for round_no in range(1, args.rounds + 1):
        for concurrency in (1, args.concurrency):
            for name in ("venues_sql", "geometry_sql"):
                script = (run.conninfo, run.files[name], concurrency, args.seconds, run.options)
                result = pgbench.run(*script, args.warmup)
                key = f"{'geography' if name == 'venues_sql' else 'geometry'}_c{concurrency}"
                found.setdefault(key, []).append(result)
                print(f"  round {round_no} {key}: median {result['median_ms']} ms", flush=True)
    return found
