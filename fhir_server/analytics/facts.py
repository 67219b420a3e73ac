"""Facts extracted from resources at write time (pure functions, no database).

A person's facts live in one document (storage/analytics_facts.py): their area (Patient), their
registrations (Appointment with the vn-priority-group extension), their doses (Immunization),
the verification marks of each dose (a VERIFY Provenance confirms it, an active Flag whose
flag-detail names it disputes it) and their adverse events (AdverseEvent.suspectEntity). From
that document `contributions` derives the person's counts at the finest grain; rollup.py turns
them into the pre-aggregated cells the indicators read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fhir_server.analytics.areas import province_of, to_2025_commune, to_2025_province
from fhir_server.vaccination.schedule import schedule_of

VIETNAM = timezone(timedelta(hours=7))
SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"
PROVINCE_EXT, COMMUNE_EXT = f"{SD}/vn-address-province", f"{SD}/vn-address-commune"
PRIORITY_EXT = f"{SD}/vn-priority-group"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
SERIOUS = frozenset({"serious", "severe"})
ENDED = frozenset({"cancelled", "entered-in-error", "noshow"})
Fact = dict[str, Any]
Key = tuple[str, str, str, str, str, str, str]  # day, commune, province, group, vaccine, lot, site


def field_key(resource_id: str) -> str:
    """A resource id as a document field name (ids may hold '.', field names may not)."""
    return resource_id.replace(".", "%2E")


def entry_id(field: str) -> str:
    """The resource id of a document field name (field_key reversed)."""
    return field.replace("%2E", ".")


def local_day(value: Any) -> str:
    """The local date (Asia/Ho_Chi_Minh) of a FHIR date/dateTime, YYYY-MM-DD ("" if none)."""
    if not isinstance(value, str) or len(value) < 10:
        return ""
    if len(value) == 10:
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:10]
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(VIETNAM).date().isoformat()


def ref_id(reference: Any, type_name: str) -> str:
    """The id of a literal reference to type_name ("" when it is not one)."""
    text = str((reference or {}).get("reference") or "") if isinstance(reference, Mapping) else ""
    prefix = f"{type_name}/"
    return text[len(prefix):].split("/")[0] if text.startswith(prefix) else ""


def _coding(element: Any) -> Mapping[str, Any]:
    return element.get("valueCoding") or {} if isinstance(element, Mapping) else {}


def patient_fact(patient: Mapping[str, Any] | None) -> Fact:
    """The Patient's 2025 province and commune (legacy codes mapped; "" when unknown)."""
    codes: dict[str, str] = {}
    for address in (patient or {}).get("address", [])[:1]:
        for ext in address.get("extension", []):
            if ext.get("url") == PROVINCE_EXT:
                codes["p"] = str(_coding(ext).get("code") or "")
            elif ext.get("url") == COMMUNE_EXT:
                codes["c"] = str(_coding(ext).get("code") or "")
    commune = to_2025_commune(codes.get("c")) or ""
    province = (province_of(commune) if commune else None) or to_2025_province(codes.get("p"))
    return {"p": province or "", "c": commune}


def dose_fact(immunization: Mapping[str, Any]) -> Fact:
    """A dose: local day, vaccine (vn code), lot, site, series doses, completed or not."""
    found = schedule_of(immunization.get("vaccineCode"))
    codings = (immunization.get("vaccineCode") or {}).get("coding") or [{}]
    protocol = (immunization.get("protocolApplied") or [{}])[0]
    series = protocol.get("seriesDosesPositiveInt") or (found.doses if found else 1)
    return {"d": local_day(immunization.get("occurrenceDateTime")),
            "v": found.code if found else str(codings[0].get("code") or ""),
            "l": str(immunization.get("lotNumber") or ""),
            "s": ref_id(immunization.get("location"), "Location"),
            "n": int(protocol.get("doseNumberPositiveInt") or 0), "sd": int(series),
            "ok": immunization.get("status") == "completed"}


def registration_fact(appointment: Mapping[str, Any]) -> Fact | None:
    """A registration (an Appointment with a priority group): day, group, site, active."""
    group = next((str(_coding(e).get("code") or "") for e in appointment.get("extension", [])
                  if e.get("url") == PRIORITY_EXT), None)
    if group is None:
        return None
    site = next((ref_id(p.get("actor"), "Location") for p in appointment.get("participant", [])
                 if ref_id(p.get("actor"), "Location")), "")
    day = local_day(appointment.get("created") or appointment.get("start"))
    return {"d": day, "g": group, "s": site, "ok": appointment.get("status") not in ENDED}


def appointment_patient(appointment: Mapping[str, Any]) -> str:
    """The Patient id among an Appointment's participants ("" when none)."""
    return next((ref_id(p.get("actor"), "Patient") for p in appointment.get("participant", [])
                 if ref_id(p.get("actor"), "Patient")), "")


def event_fact(event: Mapping[str, Any]) -> Fact:
    """An adverse event: local day, its code, serious or not, the suspect dose's id."""
    dose = next((ref_id(s.get("instance"), "Immunization")
                 for s in event.get("suspectEntity", [])
                 if ref_id(s.get("instance"), "Immunization")), "")
    grade = {str(c.get("code")) for c in (event.get("seriousness") or {}).get("coding", [])}
    codes = (event.get("event") or {}).get("coding") or [{}]
    return {"d": local_day(event.get("date")), "e": str(codes[0].get("code") or ""),
            "x": bool(grade & SERIOUS), "i": dose,
            "ok": event.get("actuality", "actual") == "actual"}


def confirmed_doses(provenance: Mapping[str, Any] | None) -> list[str]:
    """The Immunization ids a VERIFY Provenance confirms (none for any other Provenance)."""
    codings = ((provenance or {}).get("activity") or {}).get("coding", [])
    if not any(c.get("system") == DATA_OPERATION and c.get("code") == "VERIFY" for c in codings):
        return []
    return [i for i in (ref_id(t, "Immunization") for t in (provenance or {}).get("target", []))
            if i]


def disputed_dose(flag: Mapping[str, Any] | None) -> str:
    """The Immunization an active Flag disputes (flag-detail), "" otherwise."""
    if not flag or flag.get("status") != "active":
        return ""
    return next((ref_id(e.get("valueReference"), "Immunization")
                 for e in flag.get("extension", []) if e.get("url") == FLAG_DETAIL), "")


def week_of(day: str) -> str:
    """The ISO week of a YYYY-MM-DD day, YYYY-Www."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _add(out: dict[Key, dict[str, int]], key: Key, measure: str, count: int = 1) -> None:
    cell = out.setdefault(key, {})
    cell[measure] = cell.get(measure, 0) + count


def group_of(person: Mapping[str, Any]) -> str:
    """The person's priority group: that of their latest active registration ("" if none)."""
    regs = [r for r in (person.get("regs") or {}).values() if r.get("ok")]
    return max(regs, key=lambda r: (r["d"], r["g"]))["g"] if regs else ""


def contributions(person: Mapping[str, Any]) -> dict[Key, dict[str, int]]:
    """What one person adds to every measure, at the finest grain (see query.py)."""
    where = person.get("area") or {"p": "", "c": ""}
    province, commune, group = where["p"], where["c"], group_of(person)
    marks = person.get("marks") or {}
    out: dict[Key, dict[str, int]] = {}
    doses = sorted(((i, d) for i, d in (person.get("doses") or {}).items()
                    if d.get("ok") and d.get("d")), key=lambda x: (x[1]["d"], x[1]["n"], x[0]))

    def key(fact: Mapping[str, Any], vaccine: str = "", lot: str = "") -> Key:
        return fact["d"], commune, province, group, vaccine, lot, fact.get("s", "")
    for dose_id, dose in doses:
        at = key(dose, dose["v"], dose["l"])
        _add(out, at, "doses")
        mark = marks.get(dose_id) or {}
        if mark.get("f"):
            _add(out, at, "disputed")
        if not mark.get("p"):
            _add(out, at, "unconfirmed")
    if doses:
        series = max(int(doses[0][1].get("sd") or 1), 1)
        for rank, measure in ((0, "people_1plus"), (series - 1, "people_primary"),
                              (series, "people_booster")):
            if rank < len(doses):  # the dose that reached the milestone (same cell as it)
                dose = doses[rank][1]
                _add(out, key(dose, dose["v"], dose["l"]), measure)
    else:
        regs = [r for r in (person.get("regs") or {}).values() if r.get("ok") and r.get("d")]
        if regs:
            _add(out, key(min(regs, key=lambda r: (r["d"], r["s"]))), "registered_unvaccinated")
    by_id = dict(doses)
    for event in (person.get("events") or {}).values():
        dose = by_id.get(field_key(event.get("i", "")))
        if dose is not None and event.get("ok"):
            at = key(dose, dose["v"], dose["l"])
            _add(out, at, "events")
            if event.get("x"):
                _add(out, at, "serious")
    return out


def serious_listing(person: Mapping[str, Any]) -> dict[str, Fact]:
    """The person's serious events as listed (no subject): id -> event, vaccine, lot, date,
    site, and the dose's area and group for the filters."""
    doses = person.get("doses") or {}
    where = person.get("area") or {"p": "", "c": ""}
    out: dict[str, Fact] = {}
    for event_id, event in (person.get("events") or {}).items():
        dose = doses.get(field_key(event.get("i", "")))
        if event.get("x") and event.get("ok") and dose is not None and dose.get("ok"):
            out[event_id] = {"e": event["e"], "v": dose["v"], "l": dose["l"], "d": event["d"],
                             "dd": dose["d"], "s": dose["s"], "p": where["p"], "c": where["c"],
                             "g": group_of(person)}
    return out
