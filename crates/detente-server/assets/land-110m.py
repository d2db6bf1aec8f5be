#!/usr/bin/env python3
"""Writes world.svg (the dashboard map's land outline) from Natural Earth's 1:110m land.

Run by hand, once; the result is committed and served from the binary, so neither the
build nor CI runs this. Input: `land-110m.json` of the npm package world-atlas@2 (TopoJSON
of Natural Earth 1:110m physical land, public domain; world-atlas is ISC, (c) Michael
Bostock):

    npm pack world-atlas@2 && tar xzf world-atlas-2.*.tgz
    python3 land-110m.py package/land-110m.json > world.svg

Projection: equirectangular (plate carree) in a 360 x 180 view box, x = lon + 180,
y = 90 - lat, so that the dashboard draws zones and points in the same coordinates.
Standard library only.
"""
import json
import sys


def unwrap(pts):
    """A ring as drawable copies: longitudes made continuous (no jump across the
    antimeridian); a ring around a pole closed along the pole's edge; a ring reaching
    past +-180 also drawn shifted by 360 degrees (the view box clips what lies outside)."""
    out = [pts[0]]
    for lon, lat in pts[1:]:
        prev = out[-1][0]
        while lon - prev > 180:
            lon -= 360
        while lon - prev < -180:
            lon += 360
        out.append((lon, lat))
    first, last = out[0][0], out[-1][0]
    if abs(last - first) > 180:
        pole = -90 if sum(lat for _, lat in out) < 0 else 90
        out += [(last, pole), (first, pole)]
    lons = [lon for lon, _ in out]
    copies = [out]
    if max(lons) > 180:
        copies.append([(lon - 360, lat) for lon, lat in out])
    if min(lons) < -180:
        copies.append([(lon + 360, lat) for lon, lat in out])
    if max(lons) - min(lons) > 360:
        copies.append([(lon - 720, lat) for lon, lat in out])
        copies.append([(lon + 720, lat) for lon, lat in out])
    return copies


def main(path):
    with open(path, encoding="utf-8") as f:
        topo = json.load(f)
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indices):
        out = []
        for i in indices:
            pts = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            out.extend(pts if not out else pts[1:])
        return out

    polygons = []
    for geometry in topo["objects"]["land"]["geometries"]:
        if geometry["type"] == "Polygon":
            polygons.append(geometry["arcs"])
        elif geometry["type"] == "MultiPolygon":
            polygons.extend(geometry["arcs"])
    parts = []
    for polygon in polygons:
        for indices in polygon:
            for pts in unwrap(ring(indices)):
                coords = []
                last = None
                for lon, lat in pts:
                    p = (round(lon + 180, 1), round(90 - lat, 1))
                    if p != last:
                        coords.append("%g %g" % p)
                        last = p
                if len(coords) >= 3:
                    parts.append("M" + "L".join(coords) + "Z")
    sys.stdout.write(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 180">\n'
        "<!-- Natural Earth 1:110m land (public domain), via world-atlas@2 (ISC); "
        "equirectangular, x = lon + 180, y = 90 - lat. Made by land-110m.py. -->\n"
        '<path id="land" fill="#e4e1d8" stroke="#a9a496" stroke-width="0.15" '
        'fill-rule="evenodd" d="' + "".join(parts) + '"/>\n</svg>\n'
    )


if __name__ == "__main__":
    main(sys.argv[1])
