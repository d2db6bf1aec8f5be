#!/usr/bin/env python3
"""The peer of the benchmark: DuckDB answering detente's questions over the same file.

An analyst without detente would read the facts file with DuckDB's `read_json` and count in
SQL. This script does that, for the treaty `detente gen` writes (its quantities are
mirrored in LIMITS below and checked against the generator's `gen.json`), and prints one
JSON object: the timings measured inside the process and the values, per party and
provision, for the cross-check against detente's answers (bench/bench.py).

    duckdb_queries.py instant  --dir DIR --at 2007-07-15 [--formulation table|scan]
    duckdb_queries.py timeline --dir DIR [--formulation range|window]

Formulations:
  instant/table   CREATE TABLE from read_json, then one point-in-time GROUP BY
  instant/scan    one GROUP BY straight over read_json (no table)
  timeline/range  CREATE TABLE, then a range join of the 360 month starts with the
                  records' [from, until) intervals (and the events' calendar-year windows)
  timeline/window CREATE TABLE, then a running sum: +1 at the month a record starts
                  counting, -1 at the month it stops, summed over a window ordered by month
"""

import argparse
import json
import sys
import time

import duckdb

# What each provision of the generated treaty measures (crates/detente-cli/src/gen.rs,
# LIMITS). Item limits: (category, extra SQL predicate or None). The event limit sums
# `units` of `equipment_export` events in the calendar year up to the instant.
ITEM_LIMITS = {
    "tanks": ("battle_tank", None),
    "tanks-active": ("battle_tank", "attributes.active_unit"),
    "acv": ("acv", None),
    "artillery": ("artillery", "attributes.caliber_mm >= 100"),
    "aircraft": (
        "combat_aircraft",
        "attributes.role IN ('fighter', 'ground_attack', 'bomber', 'reconnaissance')",
    ),
    "helicopters": ("attack_helicopter", None),
}
EVENT_LIMIT = "exports"
# The treaty definitions these mirror, as gen.json lists them.
DEFINITIONS = {
    "tanks": "count(battle_tank)",
    "tanks-active": "count(battle_tank where active_unit)",
    "acv": "count(acv)",
    "artillery": "count(artillery where caliber_mm >= 100)",
    "aircraft": "count(combat_aircraft where role in (fighter, ground_attack, bomber, reconnaissance))",
    "helicopters": "count(attack_helicopter)",
    "exports": "sum(equipment_export.units per year)",
}

COLUMNS = """{
  'kind': 'VARCHAR', 'party': 'VARCHAR', 'id': 'VARCHAR', 'category': 'VARCHAR',
  'type': 'VARCHAR',
  'attributes': 'STRUCT(model VARCHAR, variant VARCHAR, active_unit BOOLEAN,
                        caliber_mm INTEGER, role VARCHAR, specialized BOOLEAN,
                        units INTEGER)',
  'from': 'DATE', 'until': 'DATE', 'at': 'TIMESTAMP'
}"""


def read_json(path):
    return f"read_json('{path}', format = 'newline_delimited', columns = {COLUMNS})"


def filters():
    """`count(*) FILTER (...) AS "provision"` for every item limit."""
    out = []
    for provision, (category, predicate) in ITEM_LIMITS.items():
        cond = f"category = '{category}'" + (f" AND {predicate}" if predicate else "")
        out.append(f'count(*) FILTER (WHERE {cond}) AS "{provision}"')
    return ",\n    ".join(out)


def delta_sums():
    """`sum(d) FILTER (...) AS "provision"` for every item limit (running-sum form)."""
    out = []
    for provision, (category, predicate) in ITEM_LIMITS.items():
        cond = f"category = '{category}'" + (f" AND {predicate}" if predicate else "")
        out.append(f'coalesce(sum(d) FILTER (WHERE {cond}), 0) AS "{provision}"')
    return ",\n      ".join(out)


def instant_sql(source, at):
    """Per party: the item counts alive at `at` and the year's exports up to `at`."""
    return f"""
WITH items AS (
  SELECT party,
    {filters()}
  FROM {source}
  WHERE kind = 'item' AND "from" <= TIMESTAMP '{at}'
    AND ("until" IS NULL OR "until" > TIMESTAMP '{at}')
  GROUP BY party
), events AS (
  SELECT party, sum(attributes.units) AS "{EVENT_LIMIT}"
  FROM {source}
  WHERE kind = 'event' AND "type" = 'equipment_export'
    AND "at" >= date_trunc('year', TIMESTAMP '{at}') AND "at" <= TIMESTAMP '{at}'
  GROUP BY party
)
SELECT * FROM items FULL OUTER JOIN events USING (party) ORDER BY party
"""


def points_sql(t_from, t_to):
    return (
        f"SELECT unnest(generate_series(TIMESTAMP '{t_from}', TIMESTAMP '{t_to}', "
        f"INTERVAL 1 MONTH)) AS t"
    )


def timeline_range_sql(t_from, t_to):
    """A range join: every month start against every record's interval."""
    return f"""
WITH points AS ({points_sql(t_from, t_to)}),
items AS (
  SELECT p.t, f.party,
    {filters()}
  FROM points p JOIN facts f
    ON f."from" <= p.t AND coalesce(f."until", DATE '9999-12-31') > p.t
  WHERE f.kind = 'item'
  GROUP BY p.t, f.party
), events AS (
  SELECT p.t, e.party, sum(e.attributes.units) AS "{EVENT_LIMIT}"
  FROM points p JOIN facts e
    ON e."at" >= date_trunc('year', p.t) AND e."at" <= p.t
  WHERE e.kind = 'event' AND e."type" = 'equipment_export'
  GROUP BY p.t, e.party
)
SELECT * FROM items FULL OUTER JOIN events USING (t, party) ORDER BY t, party
"""


def timeline_window_sql(t_from, t_to, parties):
    """A running sum over months: a record adds 1 from the first month start at or after
    its `from` and subtracts 1 from the first at or after its `until`; an event adds its
    units at the first month start at or after it, within its calendar year."""
    values = ", ".join(f"('{p}')" for p in parties)
    # The index of the first month start at or after `ts` (a month start counts itself).
    bucket = lambda ts: (  # noqa: E731
        f"date_diff('month', TIMESTAMP '{t_from}', date_trunc('month', {ts})) "
        f"+ CASE WHEN {ts} > date_trunc('month', {ts}) THEN 1 ELSE 0 END"
    )
    running = ",\n    ".join(
        f'sum(coalesce("{p}", 0)) OVER w AS "{p}"' for p in ITEM_LIMITS
    )
    return f"""
WITH points AS (
  SELECT t, row_number() OVER (ORDER BY t) - 1 AS k FROM ({points_sql(t_from, t_to)})
),
n AS (SELECT count(*) AS n FROM points),
parties(party) AS (VALUES {values}),
deltas AS (
  SELECT party, category, attributes, greatest({bucket('"from"::TIMESTAMP')}, 0) AS k, 1 AS d
  FROM facts WHERE kind = 'item'
  UNION ALL
  SELECT party, category, attributes, greatest({bucket('"until"::TIMESTAMP')}, 0) AS k, -1 AS d
  FROM facts WHERE kind = 'item' AND "until" IS NOT NULL
),
item_steps AS (
  SELECT party, k,
      {delta_sums()}
  FROM deltas WHERE k < (SELECT n FROM n)
  GROUP BY party, k
),
event_steps AS (
  SELECT party, {bucket('"at"')} AS k, year("at") AS y, sum(attributes.units) AS units
  FROM facts WHERE kind = 'event' AND "type" = 'equipment_export'
  GROUP BY ALL
),
grid AS (SELECT p.t, p.k, q.party FROM points p CROSS JOIN parties q)
SELECT g.t, g.party,
    {running},
    sum(coalesce(e.units, 0)) OVER y AS "{EVENT_LIMIT}"
FROM grid g
  LEFT JOIN item_steps i ON i.party = g.party AND i.k = g.k
  LEFT JOIN event_steps e ON e.party = g.party AND e.k = g.k AND e.y = year(g.t)
WINDOW w AS (PARTITION BY g.party ORDER BY g.k ROWS UNBOUNDED PRECEDING),
       y AS (PARTITION BY g.party, year(g.t) ORDER BY g.k ROWS UNBOUNDED PRECEDING)
ORDER BY g.t, g.party
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("question", choices=["instant", "timeline"])
    parser.add_argument("--dir", required=True, help="the folder `detente gen` wrote")
    parser.add_argument("--at", default="2007-07-15")
    parser.add_argument("--formulation")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    parser.add_argument("--print-sql", action="store_true")
    args = parser.parse_args()

    with open(f"{args.dir}/gen.json") as f:
        meta = json.load(f)
    for limit in meta["limits"]:
        if DEFINITIONS.get(limit["provision"]) != limit["definition"]:
            sys.exit(
                f"error: gen.json defines {limit['provision']} as `{limit['definition']}`; "
                f"this script counts `{DEFINITIONS.get(limit['provision'])}`: update LIMITS"
            )
    parties = meta["parties"]
    provisions = list(ITEM_LIMITS) + [EVENT_LIMIT]
    path = f"{args.dir}/facts.jsonl"
    t_from, t_to = meta["timeline"]["from"], meta["timeline"]["to"]

    formulation = args.formulation or ("table" if args.question == "instant" else "window")
    if args.question == "instant":
        at = args.at.replace("T", " ").rstrip("Z")
        if formulation == "table":
            load = f"CREATE TABLE facts AS SELECT * FROM {read_json(path)}"
            query = instant_sql("facts", at)
        elif formulation == "scan":
            load = None
            query = instant_sql(read_json(path), at)
        else:
            sys.exit(f"error: unknown instant formulation `{formulation}`")
    else:
        load = f"CREATE TABLE facts AS SELECT * FROM {read_json(path)}"
        if formulation == "range":
            query = timeline_range_sql(t_from, t_to)
        elif formulation == "window":
            query = timeline_window_sql(t_from, t_to, parties)
        else:
            sys.exit(f"error: unknown timeline formulation `{formulation}`")
    if args.print_sql:
        print(load or "-- no load step", ";", query, ";", sep="\n")
        return

    start = time.perf_counter()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    t0 = time.perf_counter()
    if load:
        con.execute(load)
    t1 = time.perf_counter()
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    t2 = time.perf_counter()

    values = {}
    for row in rows:
        record = dict(zip(names, row))
        party = record["party"]
        key = party if args.question == "instant" else f"{record['t'].isoformat()}Z|{party}"
        values[key] = {p: int(record.get(p) or 0) for p in provisions}
    if args.question == "instant":
        # A party with nothing alive and no export still has values: zero.
        for party in parties:
            values.setdefault(party, {p: 0 for p in provisions})
    json.dump(
        {
            "question": args.question,
            "formulation": formulation,
            "duckdb": duckdb.__version__,
            "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
            "connect_s": t0 - start,
            "load_s": t1 - t0,
            "query_s": t2 - t1,
            "total_s": t2 - start,
            "rows": len(rows),
            "values": values,
        },
        sys.stdout,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
