"""What ``scale.py`` prints at the end and writes to ``bench/results/scale.json``: the
table, the goals, the check-ins' SQL replay, the CPU per check-in, the seeding."""

import json
import os
import statistics
from datetime import UTC, datetime

from scale_report import (
    FOOTFALL,
    FOOTFALL_SQL,
    LABELS,
    OTHER_CORES_WARNING,
    OTHERS_SEEN,
    READS,
    code,
    cpu_ms,
    goals,
    machine,
    median_of_rounds,
    notes,
    num,
    print_cpu,
    print_cpu_legend,
    print_goals,
    print_notes,
    print_table,
    venues_of,
)
from seeding import libpq_conninfo


def print_replay(figures: dict, results: dict) -> None:
    """The check-ins' SQL replay: what was captured and replayed, and side figures."""
    endpoint, replayed = results.get("checkins", {}), results.get("checkins_sql", {})
    print(
        f"\ncheck-ins' own SQL (checkin_replay): {figures['captured']} captured in process"
        f" (statuses {figures['statuses']}, {figures['eligible']} eligible,"
        f" {figures['with_meetings']} with meetings), {figures['statements_per_checkin']}"
        f" statements per check-in (range {figures['statements_range']}) on"
        f" {figures['connections_per_checkin']} connection(s); SQL ms per check-in: live in"
        f" process {figures['sql_ms_per_checkin_live']} (of"
        f" {figures['wall_ms_per_checkin_in_process']} wall), replayed alone"
        f" {figures['sql_ms_per_checkin_serial']}; {figures['replayable']} replayed"
        f" (pgbench -M {figures.get('mode', 'simple')}"
        f"; {figures['failed_serially']} left out: {figures['failures']};"
        f" {figures['statements_dropped']} statements dropped: {figures['dropped']})"
    )
    print(
        f"c={endpoint.get('concurrency', '-')}: endpoint"
        f" {num(endpoint.get('throughput_rps'), 1)}/s,"
        f" replay {num(replayed.get('throughput_rps'), 1)}/s; PostgreSQL CPU ms per check-in:"
        f" endpoint {num(endpoint.get('cpu_ms_postgres'))}, replay"
        f" {num(replayed.get('cpu_ms_postgres'))}; buffer reads per check-in: endpoint"
        f" {num(endpoint.get('buffer_reads'), 0)}, replay {num(replayed.get('buffer_reads'), 0)}"
    )


def _buffers(host: dict) -> str:
    """shared_buffers as PostgreSQL states it (pages of 8 kB) in MB."""
    raw = host["pg_settings"].get("shared_buffers", "")
    return f"{int(raw[:-3]) * 8 // 1024} MB" if raw.endswith("8kB") else raw


def seed_times(seeded: dict) -> dict:
    """Each seeding step's seconds (``reused`` when it was already there)."""
    found = {}
    for step, record in seeded["world"].items():
        if step == "facts":
            continue
        total = (record.get("timings") or {}).get("total_s")
        found[f"world.{step}"] = total if record.get("seeded_now") else f"reused ({total} s)"
    for label, record in seeded["curve"].items():
        total = record["timings"].get("total_s")
        found[f"curve.{label}"] = total if record["seeded_now"] else f"reused ({total} s)"
    return found


def report(args, context: dict, measured: dict, load_before, others, default_url: str) -> None:
    """Print the table, the goals and the replay; write the JSON. ``context``: the world
    (``world``), seeding (``seed``), checks and the replay's figures (``replay``)."""
    conninfo = libpq_conninfo(os.environ.get("BENCH_SCALE_DATABASE_URL", default_url))
    results = {key: median_of_rounds(rounds) for key, rounds in measured.items()}
    for key in ("checkins", "checkins_sql"):
        rounds = measured.get(key, [])
        results.setdefault(key, {}).update(
            cpu_ms_api_postgres=cpu_ms(rounds, ("api", "postgres")),
            cpu_ms_postgres=cpu_ms(rounds, ("postgres",)),
            buffer_reads=_median_buffers(rounds),
            concurrency=args.concurrency,
        )
    rows = []
    for concurrency in (1, args.concurrency):
        rows += [(LABELS[name], concurrency, results[f"{name}_c{concurrency}"]) for name in READS]
    rows += [(LABELS[key], args.concurrency, results[key]) for key in ("checkins", "checkins_sql")]
    rows += [(LABELS[name], 1, results[name]) for name in (*FOOTFALL, *FOOTFALL_SQL)]
    curve_labels = sorted(
        (key[len("curve_") :] for key in results if key.startswith("curve_") and "sql" not in key),
        key=venues_of,
    )
    for label in curve_labels:
        rows.append(
            (f"scale curve: nearby venues, {label} venues (wrk)", 1, results[f"curve_{label}"])
        )
        sql_label = f"scale curve: its SQL alone, {label} venues (pgbench)"
        rows.append((sql_label, 1, results[f"curve_sql_{label}"]))
    ends = (curve_labels[0], curve_labels[-1]) if curve_labels else None
    verdicts = goals(results, ends)
    host, version, load_after = machine(conninfo), code(), os.getloadavg()
    state = context["world"]
    print(
        f"\nscale (commit {version['commit']}"
        + (", uncommitted service changes" if version["service_changes_uncommitted"] else "")
        + f"): {state['venues']:,} venues, {state['users']:,} users, {state['checkins']:,}"
        f" check-ins ({state['busy']['checkins']:,} at the busy venue), {state['events']:,}"
        f" events; gunicorn {args.workers} gevent workers; {host['cpus']} CPUs,"
        f" {host['ram_gb']} GB RAM; {host['postgres'].split(' on ')[0]}, PostGIS"
        f" {host['postgis']}, shared_buffers {_buffers(host)}; load average"
        f" {load_before[0]:.2f} before, {load_after[0]:.2f} after; medians of {args.rounds}"
        f" interleaved rounds per phase ({args.seconds} s reads, {args.footfall_seconds} s"
        f" footfall ({args.footfall_raw_seconds} s raw, {args.footfall_sql_seconds} s SQL),"
        f" {args.checkin_seconds} s check-ins and as long their SQL replayed per round)\n"
    )
    print_table(rows)
    print_goals(verdicts)
    explaining = notes(results)
    print_notes(explaining)
    print_replay(context["replay"], results)
    print_cpu(measured["checkins"], "CPU ms per check-in (cores used)", "wrk")
    print_cpu(measured["checkins_sql"], "the same, SQL replayed", "pgbench")
    print_cpu_legend()
    for phase in ("checkins", "checkins_sql"):
        for index, r in enumerate(measured[phase], 1):
            other = r.get("machine", {}).get("cpu_cores_used", {}).get("other", 0)
            if other > OTHER_CORES_WARNING:
                print(f"WARNING: {other} cores used by other processes in {phase} round {index}")
    if OTHERS_SEEN:
        phases = sorted({seen["phase"] for seen in OTHERS_SEEN})
        print(f"WARNING: other benchmarks or tests ran during: {', '.join(phases)}")
    print(f"\nrollup == raw (in process): {context['rollup_equals_raw']};"
          f" sanity: {context['sanity']}")  # fmt: skip
    print(f"seeding: {json.dumps(seed_times(context['seed']))}")
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "machine": {
            **host,
            "load_average_before": [round(v, 2) for v in load_before],
            "load_average_after": [round(v, 2) for v in load_after],
            "others_running_at_start": others,
            "others_seen_during_phases": OTHERS_SEEN,
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


def _median_buffers(rounds: list[dict]) -> float | None:
    values = [
        r["machine"]["buffers_per_request"]["reads"]
        for r in rounds
        if (r.get("machine", {}).get("buffers_per_request") or {}).get("reads") is not None
    ]
    return round(statistics.median(values), 1) if values else None
