"""What ``scale.py`` prints at the end and writes to ``bench/results/scale.json``."""

import json
import os
from datetime import UTC, datetime

from bench.harness import report
from bench.harness.report import Goal, num
from bench.phases import citus_report, plans
from bench.phases.curve import venues_of
from bench.phases.footfall import FOOTFALL, FOOTFALL_SQL
from bench.phases.reads import READS

LABELS = {
    "venues": "nearby venues GET /venues/nearby (wrk)",
    "venues_sql": "nearby venues, the service's SQL alone (pgbench)",
    "contacts": "nearby contacts GET /nearby/contacts (wrk)",
    "events": "nearby events GET /events/nearby (wrk)",
    "checkins": "check-ins POST /checkins, distinct users (wrk)",
    "checkins_sql": "check-ins, their own SQL replayed (pgbench)",
    "geography": "nearby venues, geography: the service's SQL (pgbench)",
    "geometry": "nearby venues, geometry twin (pgbench)",
    "streams_rounds": "notification streams: rounds of 50 (SSE)",
    "streams_burst": "notification streams: one burst to all (SSE)",
}
for _name, (_days, _tz) in FOOTFALL.items():
    LABELS[_name] = f"footfall {_days} days, " + ("raw check-ins &tz=UTC" if _tz else "rollup")
    LABELS[_name + "_sql"] = f"footfall {_days} days, the " + ("raw" if _tz else "rollup's")
    LABELS[_name] += " (wrk)"
    LABELS[_name + "_sql"] += " SQL alone (pgbench)"
MED, RPS = "median_ms", "throughput_rps"
GOALS = [
    Goal(18, "check-ins per second, c=8", "checkins", RPS, ">=", 150.0),
    Goal(18, "machine CPU ms per check-in (API + PostgreSQL)", "checkins",
         "cpu_ms_api_postgres", "<=", 12.0),
    Goal(18, "check-ins/s endpoint / its SQL replayed, c=8", "checkins", RPS, ">=", 0.33,
         ("checkins_sql", RPS)),
    Goal(18, "check-ins p99 / median, c=8", "checkins", "p99_ms", "<=", 5.0, ("checkins", MED)),
    Goal(18, "nearby venues endpoint / its SQL, median c=1", "venues_c1", MED, "<=", 3.0,
         ("venues_sql_c1", MED)),
    Goal(18, "nearby contacts / nearby venues, median c=1", "contacts_c1", MED, "<=", 2.0,
         ("venues_c1", MED)),
    Goal(18, "nearby events / nearby venues, median c=1", "events_c1", MED, "<=", 2.0,
         ("venues_c1", MED)),
    Goal(None, "footfall 30 days (rollup) median ms", "ff30", MED, "<=", 50.0),
    Goal(None, "footfall 365 days (rollup) median ms", "ff365", MED, "<=", 50.0),
    Goal(None, "footfall 30 days raw / rollup, median", "ff30_raw", MED, ">=", 10.0, ("ff30", MED)),
    Goal(None, "footfall 365 days raw / rollup, median", "ff365_raw", MED, ">=", 10.0,
         ("ff365", MED)),
]  # fmt: skip
NOTES = [  # (label, numerator key, denominator key, metric)
    ("nearby venues endpoint / raw SQL, median c=8", "venues_c8", "venues_sql_c8", MED),
    ("raw SQL / endpoint, throughput c=8", "venues_sql_c8", "venues_c8", RPS),
    ("nearby contacts / nearby venues, median c=8", "contacts_c8", "venues_c8", MED),
    ("nearby events / nearby venues, median c=8", "events_c8", "venues_c8", MED),
    ("footfall 30 days raw SQL / rollup SQL (alone)", "ff30_raw_sql", "ff30_sql", MED),
    ("footfall 365 days raw SQL / rollup SQL (alone)", "ff365_raw_sql", "ff365_sql", MED),
]
OTHER_CORES_WARNING = 0.2  # "other" CPU during check-ins beyond this: not a clean measurement


def _rows(results: dict, c: int) -> tuple[list, tuple[str, str] | None]:
    """The table's rows of what was measured, and the curve's smallest and largest."""
    wanted = [(LABELS[name], n, f"{name}_c{n}") for n in (1, c) for name in READS]
    wanted += [(LABELS[key], c, key) for key in ("checkins", "checkins_sql")]
    wanted += [(LABELS[name], 1, name) for name in (*FOOTFALL, *FOOTFALL_SQL)]
    names = [
        key[len("curve_") :] for key in results if key.startswith("curve_") and "sql" not in key
    ]
    curve = sorted(names, key=venues_of)
    for name in curve:
        wanted.append((f"scale curve: nearby venues, {name} venues (wrk)", 1, f"curve_{name}"))
        wanted.append(
            (f"scale curve: its SQL alone, {name} venues (pgbench)", 1, f"curve_sql_{name}")
        )
    wanted += [
        (LABELS[name], n, f"{name}_c{n}") for n in (1, c) for name in ("geography", "geometry")
    ]
    wanted += [(LABELS[key], 1, key) for key in ("streams_rounds", "streams_burst")]
    rows = [(label, n, results[key]) for label, n, key in wanted if key in results]
    return rows, (curve[0], curve[-1]) if curve else None


def _notes(results: dict) -> list[tuple[str, float | None]]:
    """Ratios that explain the goals: at c=8, the footfall statements, geometry."""
    notes = [*NOTES, ("geometry / geography SQL, median c=1", "geometry_c1", "geography_c1", MED)]
    return [
        (label, report.ratio(results.get(a, {}).get(metric), results.get(b, {}).get(metric)))
        for label, a, b, metric in notes
        if not a.startswith("geo") or a in results
    ]


def print_replay(figures: dict, results: dict) -> None:
    """The check-ins' SQL replay: what was captured and replayed, and the two side by side."""
    shown = ("captured", "statuses", "eligible", "with_meetings", "statements_per_checkin")
    shown += ("statements_range", "connections_per_checkin", "sql_ms_per_checkin_live")
    shown += ("wall_ms_per_checkin_in_process", "sql_ms_per_checkin_serial", "replayable")
    shown += ("mode", "failed_serially", "failures", "statements_dropped", "dropped")
    print("\ncheck-ins' own SQL: " + ", ".join(f"{key} {figures.get(key)}" for key in shown))
    sides = ((RPS, "check-ins/s", 1), ("cpu_ms_postgres", "PostgreSQL CPU ms each", 2))
    for key, what, digits in (*sides, ("buffer_reads", "buffer reads each", 0)):
        pair = [num(results[name].get(key), digits) for name in ("checkins", "checkins_sql")]
        print(f"{what}: endpoint {pair[0]}, replay {pair[1]}")


def print_cpu(rounds: list[dict], title: str, client: str) -> None:
    """Print CPU ms per check-in (and cores) by process group, per round."""
    kinds = ("api", "postgres", "load clients", "other", "machine busy")
    heads = "".join(f"{k if k != 'load clients' else client:>16}" for k in kinds)
    print(f"\n{title:34}{heads}{'buffer hits':>12}{'reads':>7}")
    for index, r in enumerate(rounds, 1):
        use = r.get("machine", {})
        per = use.get("cpu_ms_per_request")
        if not per:
            continue
        cells = "".join(f"{per[k]:>9.2f} ({use['cpu_cores_used'][k]:.2f})" for k in kinds)
        buffers = use["buffers_per_request"]
        label = f"round {index}: {r[RPS]:.0f}/s"
        print(f"{label:34}{cells}{buffers['hits']:>12.0f}{buffers['reads']:>7.0f}")


def seed_times(context: dict) -> dict:
    """Each seeding step's seconds (``reused`` when it was already there)."""
    seeded = context.get("seed", {})
    steps = [(f"world.{k}", r) for k, r in seeded.get("world", {}).items() if k != "facts"]
    steps += [(f"curve.{name}", r) for name, r in seeded.get("curve", {}).items()]
    found = {}
    for name, record in steps:
        total = (record.get("timings") or {}).get("total_s")
        found[name] = total if record.get("seeded_now") else f"reused ({total} s)"
    if "citus" in context:
        found["citus"] = context["citus"]["seed"]
    return found


def _headline(args, state: dict, host: dict, version: dict, load: tuple) -> str:
    raw = host["pg_settings"].get("shared_buffers", "")  # pages of 8 kB
    buffers = f"{int(raw[:-3]) * 8 // 1024} MB" if raw.endswith("8kB") else raw
    dirty = ", uncommitted service changes" if version["service_changes_uncommitted"] else ""
    return (
        f"\nscale (commit {version['commit']}{dirty}): {state['venues']:,} venues,"
        f" {state['users']:,} users, {state['checkins']:,} check-ins"
        f" ({state['busy_venue_checkins']:,} at the busy venue), {state['events']:,} events;"
        f" gunicorn {args.workers} gevent workers; {host['cpus']} CPUs, {host['ram_gb']} GB RAM;"
        f" {host['postgres'].split(' on ')[0]}, PostGIS {host['postgis']}, shared_buffers"
        f" {buffers}; load average {load[0]:.2f} before, {load[1]:.2f} after; medians of"
        f" {args.rounds} interleaved rounds per phase\n"
    )


def summarise(args, context: dict, measured: dict, load_before, others, conninfo: str) -> None:
    """Print the table, goals and side figures; write the JSON."""
    results = {key: report.median_of_rounds(rounds) for key, rounds in measured.items()}
    for key in {"checkins", "checkins_sql"} & set(measured):
        cpu, rounds = "cpu_ms_per_request", measured[key]
        results[key]["cpu_ms_api_postgres"] = report.per_request(rounds, cpu, ("api", "postgres"))
        results[key]["cpu_ms_postgres"] = report.per_request(rounds, cpu, ("postgres",))
        results[key]["buffer_reads"] = report.per_request(rounds, "buffers_per_request", ("reads",))
        results[key]["concurrency"] = args.concurrency
    rows, curve = _rows(results, args.concurrency)
    goals = GOALS[:]
    if curve:
        small, large = curve
        goals.append(Goal(None, f"nearby venues {large} / {small} venues, median c=1",
                          f"curve_{large}", MED, "<=", 1.5, (f"curve_{small}", MED)))  # fmt: skip
    verdicts = report.judge(results, goals) if "world" in context else []
    host, version, load_after = report.machine(conninfo), report.code(), os.getloadavg()
    explaining = _notes(results) if "world" in context else []
    if "world" in context:  # the world at its stated scale was measured
        print(_headline(args, context["world"], host, version, (load_before[0], load_after[0])))
        report.print_table(rows)
        report.print_goals(verdicts)
        report.print_notes(explaining)
    if "checkins" in measured:
        print_replay(context["replay"], results)
        print_cpu(measured["checkins"], "CPU ms per check-in (cores used)", "wrk")
        print_cpu(measured["checkins_sql"], "the same, SQL replayed", "pgbench")
        print(
            "(api: the gunicorn master and workers; postgres: the bench database's backends and"
            " the server's own processes; wrk / pgbench: the load generator; other: the rest of"
            " the machine's busy time, this script's sampling included)"
        )
        for phase in ("checkins", "checkins_sql"):
            for index, r in enumerate(measured[phase], 1):
                other = r.get("machine", {}).get("cpu_cores_used", {}).get("other", 0)
                if other > OTHER_CORES_WARNING:
                    print(
                        f"WARNING: {other} cores used by other processes in {phase} round {index}"
                    )
    if "geometry" in context:
        print(f"\ngeometry twin: {context['geometry']}")
    if "plans" in context:
        plans.show(context["plans"])
    if "citus" in context:
        citus_report.show(context["citus"])
    others_after = report.competitors()
    if others_after:
        print("WARNING: other benchmarks, servers or tests were running at the end:")
        print("\n".join(f"  {line}" for line in others_after))
    print(f"\nrollup == raw (in process): {context.get('rollup_equals_raw')};"
          f" sanity: {context.get('sanity')}")  # fmt: skip
    print(f"seeding: {json.dumps(seed_times(context))}")
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "machine": {
            **host,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in load_after],
            "others_running_at_start": others,
            "others_running_at_end": others_after,
        },
        "code": version,
        **context,
        "results": results,
        "goals": verdicts,
        "notes": dict(explaining),
        "rounds": measured,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"results written to {args.output}")
