"""The citus phase's report: each side's medians, the ratios Citus / single node, and
the table printed side by side (README)."""

from bench.harness import citus
from bench.harness.report import median_of_rounds, per_request, ratio
from bench.harness.seed import world

SIDES = ("single", "citus")
READS = ("venues", "contacts")
FOOTFALL = ("ff30", "ff365")  # the owner's stats from the rollup, as the app serves them
ROWS = [  # (key, label): what both sides measure
    *[(f"{name}_{c}", f"nearby {name} (wrk)") for c in ("c1", "cn") for name in READS],
    *[(f"{name}_sql_{c}", f"nearby {name}, its SQL (pgbench)") for c in ("c1", "cn")
      for name in READS],
    ("checkins", "check-ins POST /checkins (wrk)"),
    ("checkins_sql", "check-ins, their SQL replayed (pgbench)"),
    *[(name, f"footfall {name[2:]} days (wrk)") for name in FOOTFALL],
    *[(f"{name}_sql", f"footfall {name[2:]} days, its SQL (pgbench)") for name in FOOTFALL],
]  # fmt: skip
METRICS = ("median_ms", "p99_ms", "throughput_rps")


def summarise(found: dict, args, small, seeded: dict, nodes: dict) -> dict:
    """Medians of each side's rounds, CPU per check-in, and the ratios Citus / single."""
    results = {}
    for name, rounds in found["rounds"].items():
        results[name] = {key: median_of_rounds(value) for key, value in rounds.items()}
        for key in {"checkins", "checkins_sql"} & set(rounds):
            cpu = "cpu_ms_per_request"
            results[name][key]["cpu_ms_api_postgres"] = per_request(
                rounds[key], cpu, ("api", "postgres")
            )
            results[name][key]["cpu_ms_postgres"] = per_request(rounds[key], cpu, ("postgres",))
    ratios = {}
    for key, _ in ROWS:
        pair = [results.get(name, {}).get(key, {}) for name in SIDES]
        ratios[key] = {m: ratio(pair[1].get(m), pair[0].get(m)) for m in METRICS}
    for metric in ("cpu_ms_api_postgres", "cpu_ms_postgres"):
        pair = [results.get(name, {}).get("checkins", {}).get(metric) for name in SIDES]
        ratios["checkins"][metric] = ratio(pair[1], pair[0])
    return {
        "world": {key: getattr(small, key) for key in world.world_options(small)["history"]}
        | {"venues": small.venues, "events": small.events},
        "cluster": nodes,
        "concurrency": args.concurrency,
        "rounds_run": args.rounds,
        **seeding(seeded),
        **{key: found[key] for key in ("sanity", "failing", "prepared")},
        "results": results,
        "ratios": ratios,
        "rounds": found["rounds"],
    }


def seeding(seeded: dict) -> dict:
    """Each side's seeding steps' seconds, and whether any was seeded in this run."""
    steps = {name: {k: r for k, r in seeded[name].items() if k != "facts"} for name in SIDES}
    return {
        "seed": {
            name: {step: r.get("timings", {}).get("total_s") for step, r in done.items()}
            for name, done in steps.items()
        },
        "seeded_now": {
            name: sorted(step for step, r in done.items() if r.get("seeded_now"))
            for name, done in steps.items()
        },
    }


def show(report: dict) -> None:
    """Print both sides and the ratios, row by row."""
    if "results" not in report:
        return
    world_ = report["world"]
    nodes = report["cluster"]
    print(
        f"\nCitus / single-node PostgreSQL, one world: {world_['venues']:,} venues,"
        f" {world_['users']:,} users, {world_['checkins']:,} check-ins"
        f" ({world_['busy_checkins']:,} at the busy venue), {world_['events']:,} events;"
        f" {nodes.get('citus')}, coordinator + 2 workers on this machine, {nodes.get('shards')}"
        f" shards, shared_buffers {citus.SHARED_BUFFERS} a node; medians of {report['rounds_run']}"
        " rounds, the sides alternating"
    )
    head = (
        f"{'row':44}{'c':>3} | {'single ms':>10}{'p99':>10}{'req/s':>8} |"
        f" {'citus ms':>10}{'p99':>10}{'req/s':>8} | {'ms ratio':>9}{'req/s ratio':>12}"
    )
    print(head + "\n" + "-" * len(head))
    results, ratios = report["results"], report["ratios"]
    for key, label in ROWS:
        pair = [results.get(name, {}).get(key) for name in SIDES]
        if not any(pair):
            continue
        c = report["concurrency"] if key.endswith("_cn") or key.startswith("checkins") else 1
        cells = ""
        for r in pair:
            r = r or {}
            cells += (f" | {_num(r.get('median_ms'), 1):>10}{_num(r.get('p99_ms'), 1):>10}"
                      f"{_num(r.get('throughput_rps'), 1):>8}")  # fmt: skip
        q = ratios.get(key, {})
        print(
            f"{label[:44]:44}{c:>3}{cells} | {_num(q.get('median_ms')):>9}"
            f"{_num(q.get('throughput_rps')):>12}"
        )
    cpu = [results.get(name, {}).get("checkins", {}) for name in SIDES]
    print(
        "CPU ms per check-in, API + PostgreSQL (all three servers): single"
        f" {_num(cpu[0].get('cpu_ms_api_postgres'))}, citus"
        f" {_num(cpu[1].get('cpu_ms_api_postgres'))}; PostgreSQL alone: single"
        f" {_num(cpu[0].get('cpu_ms_postgres'))}, citus {_num(cpu[1].get('cpu_ms_postgres'))}"
    )
    prepared = report["prepared"]
    for name in SIDES:
        figures = prepared.get(name, {}).get("checkins_sql", {})
        shown = ("statements_per_checkin", "connections_per_checkin", "sql_ms_per_checkin_serial")
        shown += ("statements_dropped", "dropped")
        print(f"{name} check-ins' SQL: " + ", ".join(f"{k} {figures.get(k)}" for k in shown))
    for what in ("checkins_sql", "contacts_sql"):
        sites = [prepared.get(name, {}).get(what, {}).get("sql_ms_by_site", {}) for name in SIDES]
        names = sorted(set(sites[0]) | set(sites[1]), key=lambda k: -(sites[1].get(k) or 0))
        print(f"{what[:-4]}: SQL ms per request by call site, captured in process at c=1"
              f"{'single':>10}{'citus':>10}")  # fmt: skip
        for site in names[:10]:
            print(f"  {site:62}{_num(sites[0].get(site)):>10}{_num(sites[1].get(site)):>10}")
    print(f"sanity (mean items; the owner's totals): {report['sanity']}")
    if any(report["failing"].values()):
        print(f"NOT MEASURED (failed its sanity check): {report['failing']}")
    print(f"seeding seconds: {report['seed']}")


def _num(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"
