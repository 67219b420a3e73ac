"""In-app notifications (Thông báo) as FHIR Communication, and their SMS, once per event.

FHIR R4 communication.html: each notification is a Communication with `category`
`notification` (communication-category), `subject` and `recipient` the citizen's Patient,
`about` the Appointment (or record) it is about, `sent`, the Vietnamese text as
`payload.contentString`, and `identifier` {NOTICE_SYSTEM, event key}. Read marker: status
`in-progress` = unread, `completed` + `received` = read (Communication/[id]/$mark-read).

Idempotent: the event key (kind, the resource and its version) is claimed inside the transaction
that creates the Communication (a second run or a retry finds it and writes nothing), and the
SMS is queued in the outbox under the same key (never queued twice). The phone is the Patient's
own (`telecom` phone/sms), else that of the account holder who linked them (RelatedPerson).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.interactions.context import Services
from fhir_server.search.criteria import Criteria

NOTICE_SYSTEM = "urn:fhir-server:notice"  # short: keys stay well under 100 characters
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/communication-category"
VIETNAM = timezone(timedelta(hours=7))
PREFIX = "So suc khoe dien tu"  # SMS gateways bill accented text as UCS-2: the prefix is plain
TEXTS = {  # kind -> Vietnamese text; {name} {when} {site} {reason} filled in
    "registration-accepted": "Đăng ký tiêm chủng của {name} đã được chấp nhận. Lịch tiêm: "
                             "{when} tại {site}.",
    "registration-declined": "Đăng ký tiêm chủng của {name} chưa được chấp nhận. Lý do: "
                             "{reason}.",
    "booking-confirmed": "Lịch khám của {name} đã được xác nhận: {when} tại {site}.",
    "booking-cancelled": "Lịch khám của {name} lúc {when} đã được hủy. {reason}",
    "vaccination-cancelled": "Đăng ký/lịch tiêm chủng của {name} đã được hủy. {reason}",
    "reminder": "Nhắc lịch hẹn: {name} có lịch {when} tại {site}. Vui lòng đến đúng giờ.",
    # hooks for the flows that record doses and reactions (not triggered here yet)
    "dose-recorded": "Mũi tiêm của {name} ngày {when} đã được ghi nhận vào sổ sức khỏe.",
    "next-dose-due": "{name} đến hạn tiêm mũi tiếp theo từ {when}.",
    "red-flag-received": "Đã nhận phản ứng sau tiêm của {name}. Cơ sở y tế sẽ liên hệ; nếu "
                         "khó thở, đau ngực, hãy gọi 115.",
}


@dataclass(frozen=True)
class Notice:
    """One event to tell a citizen about: kind, Patient, what it is about, its unique key."""

    kind: str
    patient_id: str
    about: str  # e.g. Appointment/123
    key: str  # kind/id/version: unique per event
    details: dict[str, str]


def when_text(value: Any) -> str:
    """An instant as Vietnamese local time: '08:30 ngày 15/08/2021'."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y")


def text_of(notice: Notice) -> str:
    """The Vietnamese text of a notice."""
    values = {"name": "", "when": "", "site": "cơ sở y tế", "reason": "", **notice.details}
    return TEXTS[notice.kind].format(**values).strip()


def patient_name(patient: dict[str, Any]) -> str:
    """The Patient's display name (name.text, else given + family)."""
    for name in patient.get("name") or []:
        if name.get("text"):
            return str(name["text"])
        parts = [name.get("family", ""), *name.get("given", [])]
        if any(parts):
            return " ".join(p for p in parts if p)
    return ""


def phone_in(telecoms: list[dict[str, Any]] | None) -> str | None:
    """The first phone (or sms) number among telecoms."""
    return next((str(t["value"]) for t in telecoms or []
                 if t.get("system") in ("phone", "sms") and t.get("value")), None)


def phone_of(svc: Services, patient_id: str) -> str | None:
    """The number to text about this Patient: theirs, else the linking account holder's."""
    try:
        patient = svc.store.read("Patient", patient_id).resource or {}
    except FhirError:  # deleted since: no one to text
        return None
    found = phone_in(patient.get("telecom"))
    if found:
        return found
    related = svc.search.criteria_for("RelatedPerson", [("patient", f"Patient/{patient_id}")])
    for version in svc.store.find("RelatedPerson", related, limit=5):
        found = phone_in((version.resource or {}).get("telecom"))
        if found:
            return found
    return None


def communication(notice: Notice, text: str, sent: datetime) -> dict[str, Any]:
    """The Communication of a notice (unread: status in-progress)."""
    patient = {"reference": f"Patient/{notice.patient_id}"}
    return {
        "resourceType": "Communication", "status": "in-progress",
        "identifier": [{"system": NOTICE_SYSTEM, "value": notice.key}],
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "notification"}]}],
        "topic": {"coding": [{"system": NOTICE_SYSTEM, "code": notice.kind}]},
        "subject": patient, "recipient": [patient], "about": [{"reference": notice.about}],
        "sent": sent.isoformat(), "payload": [{"contentString": text}]}


def _existing(svc: Services, key: str) -> Criteria:
    return svc.search.criteria_for("Communication", [("identifier", f"{NOTICE_SYSTEM}|{key}")])


def record(svc: Services, notice: Notice, now: datetime) -> bool:
    """Write the notice's Communication unless its key is known (call inside a transaction:
    the key is claimed there); True when written. `svc` acts as the server."""
    svc.store.claim(f"notice:{notice.key}")
    if next(iter(svc.store.find("Communication", _existing(svc, notice.key), limit=1)), None):
        return False
    svc.store.create("Communication", communication(notice, text_of(notice), now))
    return True


def notify(svc: Services, notice: Notice, now: datetime) -> None:
    """Record the in-app notice (its own transaction) and text it, each at most once."""
    internal = svc.internal()
    internal.store.transact(lambda: record(internal, notice, now))
    notify_after(internal, notice, now)


def notify_after(svc: Services, notice: Notice, now: datetime) -> bool:
    """After the notice's transaction: queue its SMS once (outbox key); False when already
    queued, or when there is no phone or no SMS outbox."""
    svc = svc.internal()
    auth = svc.components.get("auth")
    phone = phone_of(svc, notice.patient_id)
    if auth is None or phone is None:
        return False
    return bool(auth.outbox.enqueue_once(f"sms:{notice.key}", phone,
                                         f"{PREFIX}: {text_of(notice)}"))
