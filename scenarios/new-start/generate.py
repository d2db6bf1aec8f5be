#!/usr/bin/env python3
"""Write aggregates.jsonl and us-2020-09-01.jsonl from the two CSV files beside this script.

Run from this folder: `python3 generate.py`. Standard library only; deterministic. Edit the
CSV files or this script, not the JSON Lines files. See README.md for provenance.
"""

import csv
import json

PARTIES = (("US", "us"), ("RU", "ru"))
# CSV column suffix -> treaty quantity (treaties/new-start-2010.treaty)
COLUMNS = (("d", "deployed_delivery_vehicles"), ("w", "deployed_warheads"), ("l", "launchers"))


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def write(path, records):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def aggregates():
    out = []
    for row in rows("new-start-aggregates.csv"):
        for party, prefix in PARTIES:
            quantities = {}
            for suffix, name in COLUMNS:
                cell = row[f"{prefix}_{suffix}"].strip()
                if cell:
                    quantities[name] = int(cell)
            if quantities:  # a party with no published figure for that date gets no record
                out.append({"kind": "declaration", "party": party,
                            "id": f"{party.lower()}-{row['as_of']}", "as_of": row["as_of"],
                            "quantities": quantities})
    return out


def us_2020_09_01():
    by_type = {r["type"]: r for r in rows("new-start-us-2020-09-01.csv")}
    icbm = by_type["Minuteman III (ICBM)"]
    slbm = by_type["Trident II (SLBM)"]
    b2 = by_type["B-2A (heavy bomber)"]
    b52 = by_type["B-52H (heavy bomber)"]
    n = lambda r, col: int(r[col] or 0)
    deployed_heavy_bombers = n(b2, "deployed") + n(b52, "deployed")
    # The by-type table gives no warhead count. The aggregate release of the same date gives
    # W = 1457, which counts one warhead per deployed heavy bomber (Article III.2(c)); the
    # warheads on deployed ICBMs and SLBMs are the rest.
    published_w = 1457
    q = {
        "deployed_icbms": n(icbm, "launchers_deployed"),
        "nondeployed_icbm_launchers": n(icbm, "launchers_non_deployed"),
        "deployed_slbms": n(slbm, "launchers_deployed"),
        "nondeployed_slbm_launchers": n(slbm, "launchers_non_deployed"),
        "deployed_heavy_bombers": deployed_heavy_bombers,
        "nondeployed_heavy_bombers": n(b2, "launchers_non_deployed") + n(b52, "launchers_non_deployed"),
        "icbm_slbm_warheads": published_w - deployed_heavy_bombers,
        # From the notes of the CSV (Russian MFA reading, March 2021/2022): launchers the US
        # converted or reclassified, which the US no longer counts.
        "converted_slbm_launchers": 56,
        "converted_heavy_bombers": 41,
        "training_silos": 4,
    }
    # Consistency with the published aggregates of the same date (D 675, W 1457, L 800) and
    # with the Russian reading (L 901).
    d = q["deployed_icbms"] + q["deployed_slbms"] + q["deployed_heavy_bombers"]
    w = q["icbm_slbm_warheads"] + q["deployed_heavy_bombers"]
    l = (q["deployed_icbms"] + q["nondeployed_icbm_launchers"] + q["deployed_slbms"]
         + q["nondeployed_slbm_launchers"] + q["deployed_heavy_bombers"]
         + q["nondeployed_heavy_bombers"])
    l_ru = l + q["converted_slbm_launchers"] + q["converted_heavy_bombers"] + q["training_silos"]
    assert (d, w, l, l_ru) == (675, 1457, 800, 901), (d, w, l, l_ru)
    assert l == n(icbm, "launchers_total") + n(slbm, "launchers_total") + n(b2, "launchers_total") + n(b52, "launchers_total")
    return [{"kind": "declaration", "party": "US", "id": "us-2020-09-01-by-type",
             "as_of": "2020-09-01", "quantities": q}]


if __name__ == "__main__":
    agg = aggregates()
    us = next(r for r in agg if r["id"] == "us-2020-09-01")
    assert us["quantities"] == {"deployed_delivery_vehicles": 675, "deployed_warheads": 1457, "launchers": 800}
    write("aggregates.jsonl", agg)
    write("us-2020-09-01.jsonl", us_2020_09_01())
