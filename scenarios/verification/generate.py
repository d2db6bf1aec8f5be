#!/usr/bin/env python3
"""Writes the verification scenario's files (standard library only):

    python3 generate.py

* ussr-items.jsonl       the USSR's item-level declaration: 26 ICBM launchers in three
                         missile fields (what it commits to; T-05-3 is not in it)
* seeds.json             the seeds of round 1979-Q3, chosen so that the draw of two
                         Tatishchevo sites includes T-05, where the undeclared launcher is
* inspection-T-04.json   what US inspectors report at T-04 (exactly as declared)
* inspection-T-05.json   and at T-05 (three launchers where two are declared)

The seeds are data we choose for the story: this script searches for the first USSR
seed (with a fixed US seed) whose draw includes T-05, using its own implementation of
the draw of docs/verification.md ("The draw"), so the scenario's test also checks the
node's draw against an independent one. In a real round each party's seed is random and
secret until every party has committed, and nobody can choose the outcome.

Edit this script, never the files it writes by hand.
"""

import hashlib
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROUND = "1979-Q3"


def launcher(region, id_, site, lat, lon, missile):
    return {
        "region": region,
        "id": id_,
        "category": "icbm_launcher",
        "attributes": {"mirv": True, "missile": missile, "mobile": False, "site": site},
        "location": {"lat": round(lat, 4), "lon": round(lon, 4)},
    }


def items():
    """Illustrative silos; positions are rough, near the real fields."""
    out = []
    for s in range(1, 4):  # Kozelsk: 3 sites, 2 silos each
        for k in range(1, 3):
            out.append(launcher("kozelsk", f"K-0{s}-{k}", f"K-0{s}",
                                53.95 + 0.03 * s, 35.70 + 0.04 * s + 0.005 * k, "SS-19"))
    for s in range(1, 9):  # Tatishchevo: 8 sites, 2 silos each
        for k in range(1, 3):
            out.append(launcher("tatishchevo", f"T-0{s}-{k}", f"T-0{s}",
                                51.60 + 0.02 * s, 45.50 + 0.03 * s + 0.005 * k, "SS-19"))
    for s in range(1, 5):  # Uzhur: 4 sites, one heavy silo each
        out.append(launcher("uzhur", f"U-0{s}-1", f"U-0{s}",
                            55.25 + 0.03 * s, 89.70 + 0.05 * s, "SS-18"))
    return out


# ----- the draw, as docs/verification.md specifies it --------------------------------------

def name(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def joint_seed(round_, seeds):
    buf = b"detente-escrow/joint-seed/v1" + name(round_) + struct.pack(">I", len(seeds))
    for party, seed in sorted(seeds):
        buf += name(party) + seed
    return hashlib.sha256(buf).digest()


def draw(combined, candidates, n):
    words, block = [], 0

    def word():
        nonlocal words, block
        if not words:
            h = hashlib.sha256(b"detente-escrow/draw/v1" + combined + struct.pack(">Q", block)).digest()
            words, block = list(struct.unpack(">4Q", h)), block + 1
        return words.pop(0)

    def below(m):
        if m <= 1:
            return 0
        accept = (1 << 64) // m * m
        while True:
            x = word()
            if x < accept:
                return x % m

    order = list(range(len(candidates)))
    for i in range(n):
        j = i + below(len(candidates) - i)
        order[i], order[j] = order[j], order[i]
    return [candidates[i] for i in order[:n]]


def main():
    declared = items()
    with open(os.path.join(HERE, "ussr-items.jsonl"), "w") as f:
        for item in declared:
            f.write(json.dumps(item) + "\n")

    sites = sorted({i["attributes"]["site"] for i in declared if i["region"] == "tatishchevo"})
    us = hashlib.sha256(f"US seed for {ROUND}".encode()).digest()
    for k in range(1, 1000):
        ussr = hashlib.sha256(f"USSR seed for {ROUND} #{k}".encode()).digest()
        order = draw(joint_seed(ROUND, [("US", us), ("USSR", ussr)]), sites, len(sites))
        if "T-05" in order[:2]:
            break
    else:
        raise SystemExit("no seed found")
    with open(os.path.join(HERE, "seeds.json"), "w") as f:
        json.dump({"round": ROUND, "US": us.hex(), "USSR": ussr.hex(), "draw": order}, f, indent=2)
        f.write("\n")

    def found(id_):
        return {"id": id_, "category": "icbm_launcher", "attributes": {"mirv": True, "missile": "SS-19"}}

    reports = {
        order[0]: None,
        order[1]: None,
    }
    for day, site in enumerate(order[:2]):
        ids = [i["id"] for i in declared if i["attributes"]["site"] == site]
        if site == "T-05":
            ids.append("T-05-3")  # the launcher the USSR did not declare
        reports[site] = {
            "inspected": "USSR",
            "site": site,
            "date": f"1979-09-{12 + day}",
            "found": [found(i) for i in ids],
        }
    for site, report in reports.items():
        with open(os.path.join(HERE, f"inspection-{site}.json"), "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")

    assert len(declared) == 26
    assert "T-05-3" not in {i["id"] for i in declared}
    assert order[:2] == ["T-04", "T-05"], order
    print(f"{len(declared)} items; round {ROUND}: draw {order}; reports at {', '.join(order[:2])}")


if __name__ == "__main__":
    main()
