"""The consent page's words: every scope an app may be given reads as plain Vietnamese and
English, and every text key exists in both languages."""

from __future__ import annotations

import pytest

from fhir_server.rest.smart_texts import TEXTS, describe_scope


def test_both_languages_have_every_text() -> None:
    assert set(TEXTS["vi"]) == set(TEXTS["en"])


@pytest.mark.parametrize(("scope", "english", "vietnamese"), [
    ("patient/*.rs", "Read and search all health data of the chosen record",
     "Xem và tìm kiếm mọi dữ liệu sức khỏe của hồ sơ được chọn"),
    ("patient/Immunization.read", "Read and search vaccination history of the chosen record",
     "Xem và tìm kiếm lịch sử tiêm chủng của hồ sơ được chọn"),
    ("patient/Patient.r", "Read personal details of the chosen record",
     "Xem thông tin cá nhân của hồ sơ được chọn"),
    ("patient/Observation.cud", "Create, change and delete test results and measurements of "
     "the chosen record", "Tạo, sửa và xóa kết quả xét nghiệm và chỉ số của hồ sơ được chọn"),
    ("patient/Encounter.s", "Search Encounter of the chosen record",
     "Tìm kiếm Encounter của hồ sơ được chọn"),
    ("offline_access", "Keep access while you are not using the app (up to 30 days)",
     "Tiếp tục truy cập khi bạn không dùng ứng dụng (tối đa 30 ngày)"),
])
def test_scopes_in_plain_words(scope: str, english: str, vietnamese: str) -> None:
    assert describe_scope(scope, "en") == english
    assert describe_scope(scope, "vi") == vietnamese
