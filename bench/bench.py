#!/usr/bin/env python3
"""Runs detente and DuckDB on the same facts file, in the same run, and compares them.

Called by bench/run.sh (which builds detente, makes the venv and generates the file).
Each command is a separate process, measured from outside: wall time around the process,
and its own peak resident set size from wait4(2). The runs are interleaved (one of each
command, N times) after the file has been read once into the page cache. DuckDB also
reports its in-process timings (load, query), which leave out Python's start-up.

The engine's answers are cross-checked against DuckDB's: every party × provision value at
the instant, and every (month, party, provision) value of the timeline, from every DuckDB
formulation. Any difference fails the run (exit 1) with the first differences listed.

Writes bench/out/results.json and bench/out/results.md, and prints the markdown.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": rustc,
    }


def measure(cmd, stdout_path, ok_codes=(0,)):
    """Runs `cmd` with stdout to a file; returns wall seconds, peak RSS (MiB), user, sys."""
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
    if proc.returncode not in ok_codes:
        sys.exit(f"error: `{' '.join(map(str, cmd))}` exited {proc.returncode}\n{err}")
    return {
        "wall_s": wall,
        "rss_mib": usage.ru_maxrss / 1024,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "exit": proc.returncode,
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def compare(name, engine, peer, limit=10):
    """Differences between two {key: {provision: value}} maps, as lines."""
    problems = []
    for key in sorted(set(engine) | set(peer)):
        a, b = engine.get(key), peer.get(key)
        if a is None or b is None:
            problems.append(f"{name}: {key}: only in {'DuckDB' if a is None else 'detente'}")
            continue
        for provision in sorted(set(a) | set(b)):
            if a.get(provision) != b.get(provision):
                problems.append(
                    f"{name}: {key} {provision}: detente {a.get(provision)} != DuckDB {b.get(provision)}"
                )
    return problems[:limit], len(problems)


def engine_instant_values(path):
    with open(path) as f:
        report = json.load(f)
    values = {}
    for finding in report["findings"]:
        values.setdefault(finding["party"], {})[finding["provision"]] = finding["value"]
    return values, report


def engine_timeline_values(path):
    with open(path) as f:
        timeline = json.load(f)
    values = {}
    violations = 0
    for p in timeline["points"]:
        values.setdefault(f"{p['at']}|{p['party']}", {})[p["provision"]] = p["value"]
        violations += p["status"] == "violation"
    return values, violations


def median(xs):
    return statistics.median(xs) if xs else None


def parse_divan(path):
    """The `decision` bench's rows from divan's table: name, fastest, median, mean (as
    printed), and for a bench with a counter, the median time per counted item."""
    rows = []
    if not path.exists():
        return rows
    time = r"([\d.]+ [nµm]?s)"
    for line in path.read_text().splitlines():
        # "├─ one_limit_declared  4.415 µs │ 6.489 µs │ 4.742 µs │ 4.808 µs │ 100 │ 100"
        m = re.match(rf"^[\s│├╰─]*([a-z_0-9]+)\s+{time}\s+│\s+{time}\s+│\s+{time}\s+│\s+{time}", line)
        if m:
            rows.append({"name": m.group(1), "fastest": m.group(2), "median": m.group(4), "mean": m.group(5)})
            continue
        # "│  63.74 Kitem/s │ 47.71 Kitem/s │ 61.81 Kitem/s │ 60.77 Kitem/s │"
        rate = r"([\d.]+) ([KMG]?)item/s"
        m = re.match(rf"^[\s│]*{rate}\s+│\s+{rate}\s+│\s+{rate}", line)
        if m and rows:
            scale = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m.group(6)]
            per_item_us = 1e6 / (float(m.group(5)) * scale)
            rows[-1]["median_per_item"] = f"{per_item_us:.2f} µs"
    return rows


def fmt_s(x):
    return "—" if x is None else (f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", default=str(HERE / "out" / "cfe"))
    parser.add_argument("--bin", default=str(HERE.parent / "target" / "release" / "detente"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--at", default="2007-07-15")
    parser.add_argument("--out", default=str(HERE / "out"))
    args = parser.parse_args()

    data = Path(args.dir)
    out = Path(args.out)
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    with open(data / "gen.json") as f:
        meta = json.load(f)
    tl = meta["timeline"]
    treaty, facts = str(data / "cfe.treaty"), str(data / "facts.jsonl")
    py = sys.executable
    peer = str(HERE / "duckdb_queries.py")
    # name: (command, allowed exit codes); exit 1 from detente means "a violation found".
    commands = {
        "detente_instant": (
            [args.bin, "assess", "--treaty", treaty, "--facts", facts, "--at", args.at, "--format", "json"],
            (0, 1),
        ),
        "duckdb_instant_table": ([py, peer, "instant", "--dir", str(data), "--at", args.at, "--formulation", "table"], (0,)),
        "duckdb_instant_scan": ([py, peer, "instant", "--dir", str(data), "--at", args.at, "--formulation", "scan"], (0,)),
        "detente_timeline": (
            [args.bin, "timeline", "--treaty", treaty, "--facts", facts, "--from", tl["from"], "--to", tl["to"],
             "--every", tl["every"], "--format", "json"],
            (0, 1),
        ),
        "duckdb_timeline_range": ([py, peer, "timeline", "--dir", str(data), "--formulation", "range"], (0,)),
        "duckdb_timeline_window": ([py, peer, "timeline", "--dir", str(data), "--formulation", "window"], (0,)),
    }

    # Read the file once so every run finds it in the page cache.
    with open(facts, "rb") as f:
        while f.read(1 << 24):
            pass

    results = {name: [] for name in commands}
    for run in range(1, args.runs + 1):
        for name, (cmd, ok) in commands.items():
            path = raw / f"{name}.{run}.json"
            m = measure(cmd, path, ok)
            if name.startswith("duckdb"):
                with open(path) as f:
                    inner = json.load(f)
                m.update({k: inner[k] for k in ("load_s", "query_s", "total_s", "threads", "duckdb")})
            m["sha256"] = sha256(path)
            results[name].append(m)
            print(f"run {run}/{args.runs} {name:24} {m['wall_s']:7.3f} s {m['rss_mib']:7.1f} MiB", file=sys.stderr)

    # ---- cross-check (run 1; later runs must give the same bytes for detente, values for DuckDB)
    problems = []
    for name in commands:
        hashes = {m["sha256"] for m in results[name]}
        if name.startswith("detente") and len(hashes) != 1:
            problems.append(f"{name}: the output differs between runs")
    engine_instant, report = engine_instant_values(raw / "detente_instant.1.json")
    engine_tl, tl_violations = engine_timeline_values(raw / "detente_timeline.1.json")
    checked = {}
    for name in commands:
        if not name.startswith("duckdb"):
            continue
        engine = engine_instant if "instant" in name else engine_tl
        for run in range(1, args.runs + 1):
            with open(raw / f"{name}.{run}.json") as f:
                peer_values = json.load(f)["values"]
            if "timeline" in name:
                # Range-join rows exist only where something was counted: zero elsewhere.
                for key in engine:
                    peer_values.setdefault(key, {p: 0 for p in engine[key]})
            first, total = compare(name, engine, peer_values)
            problems += first
            if run == 1:
                checked[name] = sum(len(v) for v in engine.values())
            if total:
                break
    expected_violations = meta.get("timeline_violations", {}).get("points")
    if expected_violations is not None and tl_violations != expected_violations:
        problems.append(
            f"detente_timeline: {tl_violations} violation points; the generator expected {expected_violations}"
        )

    med = {
        name: {k: median([m[k] for m in ms]) for k in ("wall_s", "rss_mib", "user_s", "sys_s")}
        for name, ms in results.items()
    }
    for name, ms in results.items():
        if name.startswith("duckdb"):
            for k in ("load_s", "query_s", "total_s"):
                med[name][k] = median([m[k] for m in ms])

    def best(prefix, key):
        names = [n for n in med if n.startswith(prefix)]
        return min(names, key=lambda n: med[n][key])

    rows = []
    for question, engine_name in (("instant", "detente_instant"), ("timeline", "detente_timeline")):
        d = med[engine_name]
        fastest_inproc = best(f"duckdb_{question}", "total_s")
        fastest_proc = best(f"duckdb_{question}", "wall_s")
        smallest = best(f"duckdb_{question}", "rss_mib")
        rows.append({
            "question": question,
            "detente_wall_s": d["wall_s"],
            "detente_rss_mib": d["rss_mib"],
            "duckdb_fastest": fastest_inproc,
            "duckdb_inproc_s": med[fastest_inproc]["total_s"],
            "duckdb_process_s": med[fastest_proc]["wall_s"],
            "duckdb_rss_mib": med[smallest]["rss_mib"],
            "time_ratio_inproc": d["wall_s"] / med[fastest_inproc]["total_s"],
            "time_ratio_process": d["wall_s"] / med[fastest_proc]["wall_s"],
            "rss_ratio": d["rss_mib"] / med[smallest]["rss_mib"],
        })

    decision = parse_divan(out / "decision.txt")
    summary = {
        "machine": machine(),
        "data": {k: meta[k] for k in ("seed", "items", "item_records", "events", "years", "facts_bytes")},
        "parties": len(meta["parties"]),
        "at": args.at,
        "timeline": tl,
        "runs": args.runs,
        "commands": {name: " ".join(cmd) for name, (cmd, _) in commands.items()},
        "medians": med,
        "comparison": rows,
        "decision": decision,
        "cross_check": {"ok": not problems, "values_compared": checked, "problems": problems},
        "runs_raw": results,
    }
    with open(out / "results.json", "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)

    md = []
    mch = summary["machine"]
    md.append(f"Machine: {mch['nproc']} cores, {mch['cpu']}, {mch['memory_gib']} GiB; Linux {mch['kernel']}; "
              f"{mch['rustc']}; DuckDB {results['duckdb_instant_table'][0]['duckdb']} (Python {mch['python']}, "
              f"{results['duckdb_instant_table'][0]['threads']} threads).")
    md.append(f"Data: {summary['parties']} parties, {meta['items']:,} items, {meta['item_records']:,} item records, "
              f"{meta['events']:,} events, {meta['facts_bytes'] / 1e6:.0f} MB (seed {meta['seed']}). "
              f"Median of {args.runs} interleaved runs; the file in the page cache.")
    md.append("")
    md.append("| command | wall (process) | DuckDB load | DuckDB query | peak RSS |")
    md.append("| --- | ---: | ---: | ---: | ---: |")
    for name in commands:
        m = med[name]
        md.append(f"| `{name}` | {fmt_s(m['wall_s'])} | {fmt_s(m.get('load_s')) if 'load_s' in m else ''} | "
                  f"{fmt_s(m.get('query_s')) if 'query_s' in m else ''} | {m['rss_mib']:.0f} MiB |")
    md.append("")
    md.append("| goal | detente | DuckDB (fastest) | ratio detente / DuckDB |")
    md.append("| --- | ---: | ---: | ---: |")
    for r in rows:
        label = "one instant, end to end" if r["question"] == "instant" else f"{tl['points']}-point monthly timeline, end to end"
        md.append(f"| {label} | {fmt_s(r['detente_wall_s'])} | {fmt_s(r['duckdb_inproc_s'])} in process "
                  f"(`{r['duckdb_fastest'].removeprefix('duckdb_')}`), {fmt_s(r['duckdb_process_s'])} as a process | "
                  f"{r['time_ratio_inproc']:.1f}× (in process), {r['time_ratio_process']:.1f}× (process) |")
    for r in rows:
        peers = sorted((n for n in med if n.startswith(f"duckdb_{r['question']}")), key=lambda n: med[n]["rss_mib"])
        listed = ", ".join(f"{med[n]['rss_mib']:.0f} MiB (`{n.removeprefix('duckdb_')}`)" for n in peers)
        ratios = ", ".join(f"{r['detente_rss_mib'] / med[n]['rss_mib']:.1f}×" for n in peers)
        md.append(f"| peak memory ({r['question']}) | {r['detente_rss_mib']:.0f} MiB | {listed} | {ratios} |")
    for d in decision:
        per = f"; {d['median_per_item']} per finding" if "median_per_item" in d else ""
        md.append(f"| decision bench `{d['name']}` | median {d['median']} (fastest {d['fastest']}){per} | — | "
                  f"{'goal < 5 µs' if d['name'] == 'one_limit_declared' else 'context'} |")
    md.append("")
    if problems:
        md.append("**Cross-check FAILED:**")
        md += [f"- {p}" for p in problems]
    else:
        md.append("Cross-check: OK. " + "; ".join(f"{n}: {c:,} values equal" for n, c in checked.items())
                  + (f"; timeline violations {tl_violations:,} = the generator's {expected_violations:,}."
                     if expected_violations is not None else "."))
    text = "\n".join(md) + "\n"
    (out / "results.md").write_text(text)
    print(text)
    if problems:
        print("error: detente's answers differ from DuckDB's (see above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
