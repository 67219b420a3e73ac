"""Notice texts (Vietnamese, local time) and Communication shape (FHIR R4 communication.html)."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir_server.scheduling.notices import TEXTS, Notice, communication, text_of, when_text


def test_local_time_and_texts() -> None:
    assert when_text("2021-08-15T01:30:00Z") == "08:30 ngày 15/08/2021"
    assert when_text("2021-08-15T08:30:00+07:00") == "08:30 ngày 15/08/2021"
    notice = Notice("reminder", "p", "Appointment/a", "reminder/a/2021-08-15",
                    {"name": "Nguyễn Văn An", "when": "08:30 ngày 15/08/2021",
                     "site": "Trạm y tế"})
    assert text_of(notice) == ("Nhắc lịch hẹn: Nguyễn Văn An có lịch 08:30 ngày 15/08/2021 "
                               "tại Trạm y tế. Vui lòng đến đúng giờ.")
    for kind in TEXTS:  # every kind renders with no details at all
        assert text_of(Notice(kind, "p", "Appointment/a", "k", {}))


def test_communication_is_an_unread_notification() -> None:
    notice = Notice("booking-confirmed", "p1", "Appointment/a", "booking-confirmed/a/1", {})
    resource = communication(notice, "x", datetime(2021, 8, 15, tzinfo=UTC))
    assert resource["status"] == "in-progress"
    assert resource["recipient"] == [{"reference": "Patient/p1"}]
    assert resource["category"][0]["coding"][0]["code"] == "notification"
    assert len(f"{resource['identifier'][0]['system']}|{notice.key}") < 100
