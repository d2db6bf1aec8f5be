#!/usr/bin/env python3
"""Write facts.jsonl, the 1977-1983 scenario for treaties/carter-1977.treaty.

Run from this folder: `python3 generate.py > facts.jsonl`. No dependencies beyond the
standard library; the output is deterministic (no clock, no randomness). Edit this script,
not facts.jsonl. The planted situations and the findings they should produce are listed in
README.md.

The scenario is ILLUSTRATIVE: force levels are modelled loosely on the figures exchanged with
SALT II (Memorandum of Understanding, 18 June 1979) and published estimates of the period, but
every number, place and event below is chosen to exercise the treaty, not to record history.
"""

import json
import math
import sys

# Order of fields in every record: "kind" first, as DESIGN.md requires.


def rec(kind, **fields):
    out = {"kind": kind}
    out.update(fields)
    return out


def pt(lat, lon):
    return {"lat": lat, "lon": lon}


def circle(lat, lon, radius_km):
    return {"circle": {"center": pt(lat, lon), "radius_km": radius_km}}


def distance_km(a, b):
    """Great-circle distance on the sphere the language uses (radius 6371.0088 km)."""
    r = 6371.0088
    la1, lo1, la2, lo2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def in_circle(p, area):
    c = area["circle"]
    return distance_km(p, c["center"]) <= c["radius_km"]


records = []


def emit(r):
    records.append(r)


# ---------------------------------------------------------------------------------------------
# Places (approximate coordinates, degrees)

TYURATAM = pt(45.92, 63.34)  # Baikonur / Tyuratam test range, launch complexes
PLESETSK = pt(62.93, 40.58)  # Plesetsk test range
KURA = pt(57.5, 161.0)  # Kura impact range, Kamchatka (approximate)
VANDENBERG = pt(34.74, -120.57)  # Vandenberg AFB
KWAJALEIN = pt(9.1, 167.5)  # Kwajalein Atoll (approximate centre)
CANAVERAL = pt(28.47, -80.55)  # Cape Canaveral
ASCENSION = pt(-7.95, -14.37)  # Ascension Island, Eastern Test Range impact area
NTS_PAHUTE = pt(37.25, -116.45)  # Nevada Test Site, Pahute Mesa
STS_BALAPAN = pt(49.93, 78.82)  # Semipalatinsk Test Site, Balapan (Shagan River)
YAKUTIA = pt(63.0, 118.0)  # a PNE site in Yakutia (illustrative)
ASTRAKHAN = pt(46.8, 48.3)  # Astrakhan gas-condensate field (illustrative)
DIEGO_GARCIA = pt(-7.31, 72.41)
ARABIAN_SEA = pt(15.0, 62.0)
BAHRAIN = pt(26.22, 50.6)  # Persian Gulf: outside the zone (cut at Hormuz)
CAM_RANH = pt(11.95, 109.2)  # South China Sea: outside the zone

# ---------------------------------------------------------------------------------------------
# Declarations (provision c): as of each 1 January and 1 July from 1978 to 1983.
#
# Columns: icbm, mirv_icbm, slbm, mirv_slbm, heavy_bombers, alcm_heavy_bombers,
# civil_defense_spending_musd. ASBM launchers are 0 throughout (neither party had any).
# For the USSR, icbm and mirv_icbm are not listed here: they are counted from the
# item-level ICBM inventory generated below, so declarations and items agree by
# construction (except where a disagreement is planted).

DATES = [
    "1978-01-01", "1978-07-01", "1979-01-01", "1979-07-01", "1980-01-01", "1980-07-01",
    "1981-01-01", "1981-07-01", "1982-01-01", "1982-07-01", "1983-01-01", "1983-07-01",
]

US = {
    #             icbm  mirv  slbm  mslbm  hb   alcm  civil defense
    "1978-01-01": (1054, 550, 656, 496, 573, 0, 96.5),
    "1978-07-01": (1054, 550, 656, 496, 573, 0, 96.5),
    "1979-01-01": (1054, 550, 656, 496, 573, 0, 98.6),
    "1979-07-01": (1054, 550, 624, 496, 573, 3, 98.6),
    "1980-01-01": (1054, 550, 592, 496, 570, 3, 108.4),
    "1980-07-01": (1054, 550, 560, 496, 566, 3, 108.4),
    "1981-01-01": (1054, 550, 528, 496, 562, 3, 120.0),
    "1981-07-01": (1054, 550, 496, 496, 558, 3, 120.0),
    "1982-01-01": (1054, 550, 520, 520, 552, 3, 133.9),
    "1982-07-01": (1054, 550, 520, 520, 548, 3, 133.9),
    "1983-01-01": (1050, 550, 544, 544, 544, 16, 147.2),
    "1983-07-01": (1045, 550, 568, 568, 540, 40, 147.2),
}

USSR = {
    #             slbm  mslbm  hb  alcm  civil defense
    "1978-01-01": (909, 16, 156, 0, 2000.0),
    "1978-07-01": (925, 48, 156, 0, 2000.0),
    "1979-01-01": (940, 96, 156, 0, 2050.0),
    "1979-07-01": (950, 144, 156, 0, 2050.0),
    "1980-01-01": (950, 160, 150, 0, 2100.0),
    "1980-07-01": (950, 176, 146, 0, 2100.0),
    "1981-01-01": (950, 192, 140, 0, 2150.0),
    "1981-07-01": (950, 208, 136, 0, 2150.0),
    "1982-01-01": (950, 224, 132, 0, 2200.0),
    "1982-07-01": (950, 224, 130, 0, 2200.0),
    "1983-01-01": (950, 244, 128, 0, 2250.0),
    "1983-07-01": (950, 244, 128, 0, 2250.0),
}

# Delivery: on time (20 days after as_of, 09:00Z) unless listed here.
LATE = {("US", "1979-01-01"): "1979-02-14T10:00:00Z"}  # due 1979-01-31: late
MISSING = {("USSR", "1980-07-01")}  # never delivered
# Planted inconsistency: the USSR declares 10 fewer MIRVed ICBM launchers than its items show
# (it counts 10 SS-19 silos as single-warhead; under the counting rule they are MIRVed).
UNDERSTATED_MIRV_ICBM = {("USSR", "1979-07-01"): 10}

# ---------------------------------------------------------------------------------------------
# USSR ICBM inventory, item by item.
#
# One item per silo launcher. Types by silo at the start (1977): 50 SS-9, 760 SS-11, 60 SS-13,
# 100 SS-17, 218 SS-18, 210 SS-19 (1398 silos), plus 2 mobile SS-16 launchers at Plesetsk.
# SS-17, SS-18 and SS-19 are types tested with MIRVs, so their launchers count as MIRVed.
# Silo conversions end one item and start another with the same silo number and the new type;
# retirements end an item. Change dates fall between declaration dates.

INITIAL = [("ss9", 50), ("ss11", 760), ("ss13", 60), ("ss17", 100), ("ss18", 218), ("ss19", 210)]
MIRV_TYPES = {"ss17", "ss18", "ss19"}
# (date, [(from_type, to_type or None for retirement, count), ...])
CHANGES = [
    ("1978-04-15", [("ss9", "ss18", 10), ("ss11", "ss17", 5), ("ss11", "ss19", 5)]),
    ("1978-10-15", [("ss9", "ss18", 15), ("ss11", "ss17", 7), ("ss11", "ss19", 8)]),
    ("1979-04-15", [("ss9", "ss18", 15), ("ss11", "ss17", 8), ("ss11", "ss19", 7)]),
    ("1979-10-15", [("ss9", "ss18", 10), ("ss11", "ss19", 20), ("ss11", None, 30)]),
    ("1980-04-15", [("ss11", "ss19", 20), ("ss11", "ss17", 10), ("ss11", None, 30)]),
    ("1980-10-15", [("ss11", "ss19", 20), ("ss11", None, 20)]),
    ("1981-04-15", [("ss11", "ss19", 20), ("ss11", "ss17", 10), ("ss11", None, 20)]),
    ("1981-10-15", [("ss11", "ss19", 20)]),
    ("1982-04-15", [("ss11", "ss19", 10)]),
]
INVENTORY_FROM = "1977-01-01"  # placeholder: existence before 1977 is not modelled

# Mobile SS-16 launchers (provision j; phase-out 1980-10-03 with the default params).
MOBILE = [
    ("ussr-icbm-m01-ss16", "1977-01-01", "1980-06-30"),  # retired before the phase-out
    ("ussr-icbm-m02-ss16", "1977-01-01", "1981-09-30"),  # still there after it
]


def build_inventory():
    silos = []  # dicts: id, type, from, until
    n = 0
    live = {}  # type -> list of silo numbers currently of that type, in order
    for typ, count in INITIAL:
        live[typ] = []
        for _ in range(count):
            n += 1
            silos.append({"no": n, "type": typ, "from": INVENTORY_FROM, "until": None})
            live[typ].append(len(silos) - 1)
    for date, steps in CHANGES:
        for src, dst, count in steps:
            for _ in range(count):
                idx = live[src].pop()  # the highest-numbered silo of that type goes first
                silos[idx]["until"] = date
                if dst is not None:
                    silos.append({"no": silos[idx]["no"], "type": dst, "from": date, "until": None})
                    live.setdefault(dst, []).append(len(silos) - 1)
    return silos


def exists(frm, until, day):
    return frm <= day and (until is None or day < until)


SILOS = build_inventory()


def ussr_icbm_counts(day):
    total = sum(1 for s in SILOS if exists(s["from"], s["until"], day))
    mirv = sum(1 for s in SILOS if exists(s["from"], s["until"], day) and s["type"] in MIRV_TYPES)
    mobile = sum(1 for _, f, u in MOBILE if exists(f, u, day))
    return total + mobile, mirv


def declaration(party, day):
    if party == "US":
        icbm, mirv_icbm, slbm, mirv_slbm, hb, alcm, cd = US[day]
    else:
        slbm, mirv_slbm, hb, alcm, cd = USSR[day]
        icbm, mirv_icbm = ussr_icbm_counts(day)
        mirv_icbm -= UNDERSTATED_MIRV_ICBM.get((party, day), 0)
    q = {
        "icbm_launchers": icbm,
        "mirv_icbm_launchers": mirv_icbm,
        "slbm_launchers": slbm,
        "mirv_slbm_launchers": mirv_slbm,
        "heavy_bombers": hb,
        "alcm_heavy_bombers": alcm,
        "asbm_launchers": 0,
        "mirv_asbm_launchers": 0,
        # Derived totals are declared as the party's own sums of what it declares above.
        "sdv": icbm + slbm + hb + 0,
        "mirv_launchers": mirv_icbm + mirv_slbm + 0,
        "civil_defense_spending_musd": cd,
    }
    delivered = LATE.get((party, day), day[:8] + "21T09:00:00Z")
    return rec("declaration", party=party, id=f"{party.lower()}-{day}", as_of=day,
               delivered_at=delivered, quantities=q)


for day in DATES:
    for party in ("US", "USSR"):
        if (party, day) not in MISSING:
            emit(declaration(party, day))

# ---------------------------------------------------------------------------------------------
# Items other than the ICBM silo inventory.

# Provision g: bases and warships, inside and outside the Indian Ocean zone.
emit(rec("item", party="US", id="us-base-diego-garcia", category="military_base", attributes={},
         location=DIEGO_GARCIA, **{"from": "1973-03-01"}))
emit(rec("item", party="USSR", id="ussr-warship-arabian-sea", category="warship", attributes={},
         location=ARABIAN_SEA, **{"from": "1978-01-15", "until": "1981-03-01"}))
emit(rec("item", party="US", id="us-warship-bahrain", category="warship", attributes={},
         location=BAHRAIN, **{"from": "1977-01-01"}))
emit(rec("item", party="USSR", id="ussr-base-cam-ranh", category="military_base", attributes={},
         location=CAM_RANH, **{"from": "1979-05-01"}))

# Provision f: a hypothetical armed satellite.
emit(rec("item", party="USSR", id="ussr-sat-armed-1", category="armed_satellite", attributes={},
         **{"from": "1979-06-01", "until": "1981-06-30"}))

# Provision j: the two mobile launchers.
for mid, frm, until in MOBILE:
    emit(rec("item", party="USSR", id=mid, category="icbm_launcher",
             attributes={"mirv": False, "mobile": True}, location=PLESETSK,
             **{"from": frm, "until": until}))

# ---------------------------------------------------------------------------------------------
# Provision d: missile test launches, each with the launching party's event, the other
# party's observation and (unless unnotified) the notification.


def launch(label, party, at, launch_point, impact_point, notification=None):
    observer = "USSR" if party == "US" else "US"
    if notification is not None:
        emit(rec("notification", party=party, id=f"{label}-ntf", provision="d",
                 event_type="missile_test_launch", **notification))
    emit(rec("event", party=party, id=f"{label}-launch", type="missile_test_launch", at=at,
             location=launch_point, attributes={}))
    emit(rec("observation", observer=observer, party=party, id=f"{label}-obs",
             type="missile_test_launch", at=at, launch_point=launch_point,
             impact_point=impact_point))


def ntf(sent_at, received_at, wfrom, wto, launch_area=None, impact_area=None):
    out = {"sent_at": sent_at, "received_at": received_at, "window": {"from": wfrom, "to": wto}}
    if launch_area is not None:
        out["launch_area"] = launch_area
    if impact_area is not None:
        out["impact_area"] = impact_area
    return out


# L1: properly notified (USSR, Tyuratam to Kura).
launch("l1-ussr-1978-03-15", "USSR", "1978-03-15T06:00:00Z", TYURATAM, pt(57.42, 160.85),
       ntf("1978-03-10T08:00:00Z", "1978-03-10T08:05:00Z",
           "1978-03-15T00:00:00Z", "1978-03-17T00:00:00Z",
           circle(45.92, 63.34, 50), circle(57.5, 161.0, 150)))
# L2: no notification at all (US, Vandenberg to Kwajalein).
launch("l2-us-1978-06-20", "US", "1978-06-20T09:00:00Z", VANDENBERG, pt(9.05, 167.45))
# L3: notified, but launched 6 hours after the window closed (USSR, Plesetsk to Kura).
launch("l3-ussr-1979-02-06", "USSR", "1979-02-06T06:00:00Z", PLESETSK, pt(57.55, 161.1),
       ntf("1979-01-29T10:00:00Z", "1979-01-29T10:02:00Z",
           "1979-02-05T00:00:00Z", "1979-02-06T00:00:00Z",
           circle(62.93, 40.58, 50), circle(57.5, 161.0, 150)))
# L4: late: sent 36 h before the window opened, received only 10 h before it (US, Trident I
# from Cape Canaveral to the Ascension impact area). Launch itself is inside window and areas.
launch("l4-us-1979-04-11", "US", "1979-04-11T15:00:00Z", CANAVERAL, pt(-7.9, -14.5),
       ntf("1979-04-09T12:00:00Z", "1979-04-10T14:00:00Z",
           "1979-04-11T00:00:00Z", "1979-04-12T00:00:00Z",
           circle(28.47, -80.55, 50), circle(-7.95, -14.37, 150)))
# L5: launched from outside the notified launch area (notified Plesetsk, launched at Tyuratam).
launch("l5-ussr-1980-03-12", "USSR", "1980-03-12T05:00:00Z", TYURATAM, pt(57.45, 160.9),
       ntf("1980-03-05T07:00:00Z", "1980-03-05T07:01:00Z",
           "1980-03-12T00:00:00Z", "1980-03-13T00:00:00Z",
           circle(62.93, 40.58, 50), circle(57.5, 161.0, 150)))
# L6: notification without an impact area (USSR, Plesetsk to Kura).
launch("l6-ussr-1980-09-10", "USSR", "1980-09-10T04:00:00Z", PLESETSK, pt(57.6, 161.2),
       ntf("1980-09-01T09:00:00Z", "1980-09-01T09:03:00Z",
           "1980-09-10T00:00:00Z", "1980-09-11T00:00:00Z",
           circle(62.93, 40.58, 50), None))
# L7: impact observed outside the notified impact area (US, Vandenberg; ~550 km off Kwajalein).
launch("l7-us-1981-05-06", "US", "1981-05-06T10:00:00Z", VANDENBERG, pt(11.6, 171.8),
       ntf("1981-05-01T15:00:00Z", "1981-05-01T15:04:00Z",
           "1981-05-06T00:00:00Z", "1981-05-07T00:00:00Z",
           circle(34.74, -120.57, 50), circle(9.1, 167.5, 100)))
# L8: properly notified (US, Vandenberg to Kwajalein).
launch("l8-us-1982-02-10", "US", "1982-02-10T11:00:00Z", VANDENBERG, pt(9.15, 167.55),
       ntf("1982-02-03T14:00:00Z", "1982-02-03T14:02:00Z",
           "1982-02-10T00:00:00Z", "1982-02-12T00:00:00Z",
           circle(34.74, -120.57, 50), circle(9.1, 167.5, 100)))

# ---------------------------------------------------------------------------------------------
# Provision e: nuclear explosions and seismic observations.
# Observed mb values follow the treaty's default relation mb = 4.45 + 0.75 log10(Y), so the
# yield estimated from each observation is close to the declared yield.

MB_A, MB_B = 4.45, 0.75


def mb_for(yield_kt):
    return round(MB_A + MB_B * math.log10(yield_kt), 2)


def explosion(eid, party, at, where, purpose, program, yield_kt, seen_at):
    observer = "USSR" if party == "US" else "US"
    emit(rec("event", party=party, id=eid, type="nuclear_explosion", at=at, location=where,
             attributes={"purpose": purpose, "program": program, "yield_kt": yield_kt}))
    emit(rec("observation", observer=observer, party=party, id=f"{eid}-seismic",
             type="nuclear_explosion", at=at, location=seen_at, mb=mb_for(yield_kt)))


# E1: declared peaceful explosion before the sunset (allowed by the exception).
explosion("e1-ussr-pne-1978-08-10", "USSR", "1978-08-10T02:00:00Z", YAKUTIA, "peaceful",
          "deep seismic sounding", 19.0, pt(63.02, 118.05))
# E2: declared weapons test (prohibited).
explosion("e2-us-nts-1979-09-06", "US", "1979-09-06T15:00:00Z", NTS_PAHUTE, "weapons",
          "stockpile development", 140.0, pt(37.27, -116.42))
# E3: declared peaceful explosion after the sunset (1980-10-03): prohibited.
explosion("e3-ussr-pne-1981-10-08", "USSR", "1981-10-08T06:00:00Z", ASTRAKHAN, "peaceful",
          "gas-condensate storage cavities", 8.5, pt(46.78, 48.33))
# E4: a seismic observation that no declared explosion explains (mb 6.1, about 158 kt).
emit(rec("observation", observer="US", party="USSR", id="e4-us-seismic-1980-06-29",
         type="nuclear_explosion", at="1980-06-29T02:33:00Z", location=STS_BALAPAN, mb=6.1))

# Provision f: an anti-satellite test (co-orbital interceptor launched from Tyuratam).
emit(rec("event", party="USSR", id="f1-ussr-asat-1978-05-19", type="asat_test",
         at="1978-05-19T12:00:00Z", location=TYURATAM, attributes={}))

# ---------------------------------------------------------------------------------------------
# Provision i: arms transfers (recipient ISO 3166-1 alpha-2; value in millions of US dollars).
# TW marks recipients in the treaty's `third_world` group.

TRANSFERS = [
    ("US", "1978-03-10", "IR", 2500.0),  # TW
    ("US", "1978-05-22", "SA", 1200.0),  # TW
    ("US", "1978-09-14", "DE", 400.0),
    ("US", "1979-02-12", "IL", 600.0),
    ("US", "1979-06-05", "EG", 500.0),  # TW
    ("US", "1980-04-17", "KR", 700.0),  # TW
    ("US", "1980-08-20", "SA", 2000.0),  # TW
    ("US", "1981-06-15", "PK", 400.0),  # TW
    ("US", "1981-11-09", "GB", 300.0),
    ("US", "1982-03-03", "EG", 900.0),  # TW
    ("US", "1982-07-21", "VE", 600.0),  # TW
    ("US", "1982-10-12", "JP", 500.0),
    ("US", "1983-05-16", "JO", 300.0),  # TW
    ("USSR", "1978-02-08", "ET", 1000.0),  # TW
    ("USSR", "1978-06-12", "SY", 800.0),  # TW
    ("USSR", "1978-11-20", "PL", 500.0),
    ("USSR", "1979-03-05", "VN", 600.0),  # TW
    ("USSR", "1979-09-17", "AO", 300.0),  # TW
    ("USSR", "1980-01-28", "AF", 500.0),  # TW
    ("USSR", "1980-05-26", "IN", 1600.0),  # TW
    ("USSR", "1980-10-06", "CS", 300.0),
    ("USSR", "1981-02-16", "LY", 1000.0),  # TW
    ("USSR", "1981-09-01", "SY", 1200.0),  # TW
    ("USSR", "1982-06-14", "SY", 2000.0),  # TW
    ("USSR", "1982-09-27", "DZ", 400.0),  # TW
    ("USSR", "1983-04-11", "CU", 500.0),  # TW
    ("USSR", "1983-08-08", "NI", 100.0),  # TW
]
for party, day, recipient, value in TRANSFERS:
    emit(rec("event", party=party, id=f"{party.lower()}-transfer-{day}-{recipient.lower()}",
             type="arms_transfer", at=day + "T12:00:00Z",
             attributes={"recipient": recipient, "value_musd": value}))

# ---------------------------------------------------------------------------------------------
# The USSR silo inventory, last: about 1,500 lines of bulk data.
for s in SILOS:
    item = rec("item", party="USSR", id=f"ussr-icbm-{s['no']:04d}-{s['type']}",
               category="icbm_launcher",
               attributes={"mirv": s["type"] in MIRV_TYPES, "mobile": False},
               **{"from": s["from"]})
    if s["until"] is not None:
        item["until"] = s["until"]
    emit(item)

# ---------------------------------------------------------------------------------------------
# Self-checks: the planted situations are what the README says they are.

by_id = {r["id"]: r for r in records}
assert len(by_id) == len(records), "ids must be unique"


def check_launch(label, expect):
    ev = by_id[f"{label}-launch"]
    ob = by_id[f"{label}-obs"]
    n = by_id.get(f"{label}-ntf")
    got = set()
    if n is None:
        got.add("not_notified")
    else:
        for f in ("window", "launch_area", "impact_area"):
            if f not in n:
                got.add("missing_field")
        if not (n["window"]["from"] <= ev["at"] <= n["window"]["to"]):
            got.add("outside_window")
        # lead: received_at at least 24 h before the window opens
        from datetime import datetime, timedelta
        p = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
        if p(n["window"]["from"]) - p(n["received_at"]) < timedelta(hours=24):
            got.add("late_notification")
        if "launch_area" in n and not in_circle(ev["location"], n["launch_area"]):
            got.add("outside_launch_area")
        if "impact_area" in n and not in_circle(ob["impact_point"], n["impact_area"]):
            got.add("outside_impact_area")
    assert got == expect, (label, got, expect)


check_launch("l1-ussr-1978-03-15", set())
check_launch("l2-us-1978-06-20", {"not_notified"})
check_launch("l3-ussr-1979-02-06", {"outside_window"})
check_launch("l4-us-1979-04-11", {"late_notification"})
check_launch("l5-ussr-1980-03-12", {"outside_launch_area"})
check_launch("l6-ussr-1980-09-10", {"missing_field"})
check_launch("l7-us-1981-05-06", {"outside_impact_area"})
check_launch("l8-us-1982-02-10", set())

for r in records:
    if r["kind"] == "declaration":
        q = r["quantities"]
        assert q["sdv"] == q["icbm_launchers"] + q["slbm_launchers"] + q["heavy_bombers"] + q["asbm_launchers"]
        assert q["mirv_launchers"] == q["mirv_icbm_launchers"] + q["mirv_slbm_launchers"] + q["mirv_asbm_launchers"]
        if r["party"] == "USSR":
            icbm, mirv = ussr_icbm_counts(r["as_of"])
            assert q["icbm_launchers"] == icbm
            planted = UNDERSTATED_MIRV_ICBM.get(("USSR", r["as_of"]), 0)
            assert q["mirv_icbm_launchers"] == mirv - planted

for r in records:
    sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
