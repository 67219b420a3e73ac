"""Select and minimise the resources that go on a card, and build the card's FHIR Bundle.

Spec: SMART Health Cards "Payload content minified for QR codes": no Resource.id, no Resource.meta
(except meta.security), no DomainResource.text, no CodeableConcept.text, no Coding.display,
Bundle.entry.fullUrl = `resource:N` and Reference.reference = `resource:N`. Reference.display is
kept. Beyond the spec's rules we keep only the elements of the Vaccination & Testing IG's
data-minimisation profiles (an allow-list), so nothing private (address, identifiers, telecom,
extensions) ever reaches a card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fhir_server.health_cards.errors import NoCompletedImmunization

Resource = dict[str, Any]
DisplayLookup = Callable[[str], str | None]


def _ref_id(reference: str) -> str:
    """The logical id a reference points at (`Patient/1`, `urn:uuid:1`, `https://x/Patient/1`)."""
    if reference.startswith("urn:uuid:"):
        return reference[len("urn:uuid:"):]
    return reference.rstrip("/").rsplit("/", 1)[-1]


def refers_to_patient(immunization: Resource, patient: Resource) -> bool:
    """True if immunization.patient references this patient (by id, urn:uuid or absolute URL)."""
    ref = (immunization.get("patient") or {}).get("reference")
    if not isinstance(ref, str) or "id" not in patient:
        return False
    if "/" in ref and not ref.startswith("urn:") and "/Patient/" not in "/" + ref:
        return False
    return _ref_id(ref) == patient["id"]


def select_resources(patient: Resource, immunizations: Iterable[Resource]) -> list[Resource]:
    """Completed immunizations of this patient, ordered by date; raises if there are none."""
    if patient.get("resourceType") != "Patient":
        raise ValueError("select_resources needs a Patient resource")
    chosen = [
        imm for imm in immunizations
        if imm.get("resourceType") == "Immunization" and imm.get("status") == "completed"
        and refers_to_patient(imm, patient)
    ]
    if not chosen:
        raise NoCompletedImmunization(
            f"Patient/{patient.get('id', '?')} has no completed immunization: "
            "there is nothing to put on a health card"
        )
    return sorted(chosen, key=lambda imm: str(imm.get("occurrenceDateTime") or ""))


def _codings(concept: Any) -> dict[str, Any] | None:
    """CodeableConcept reduced to coding[].{system, code} (no text, no display)."""
    if not isinstance(concept, dict):
        return None
    codings = []
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code"):
            kept = {k: coding[k] for k in ("system", "code") if coding.get(k)}
            codings.append(kept)
    return {"coding": codings} if codings else None


def _security(resource: Resource) -> dict[str, Any] | None:
    """meta reduced to meta.security (the only meta element the spec allows)."""
    meta = resource.get("meta")
    if not isinstance(meta, dict) or not meta.get("security"):
        return None
    security = [{k: c[k] for k in ("system", "code") if c.get(k)}
                for c in meta["security"] if isinstance(c, dict) and c.get("code")]
    return {"security": security} if security else None


NAME_PARTS = ("family", "given", "text")  # text: the name as written ("Nguyễn Văn An")


def minimise_patient(patient: Resource) -> Resource:
    """Patient with name (family, given, text) and birthDate only.

    HumanName.text is kept as written, so a Vietnamese name stays in its own order (family
    name first: "Nguyễn Văn An") instead of being rebuilt from given + family.
    """
    out: Resource = {"resourceType": "Patient"}
    names = []
    for name in patient.get("name") or []:
        if not isinstance(name, dict):
            continue
        kept = {k: name[k] for k in NAME_PARTS if name.get(k)}
        if kept:
            names.append(kept)
    if names:
        out["name"] = _preferred_names(patient, names)
    if patient.get("birthDate"):
        out["birthDate"] = patient["birthDate"]
    return out


def _preferred_names(patient: Resource, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The official name if there is one (a card shows one name), else every kept name."""
    for name in patient.get("name") or []:
        if isinstance(name, dict) and name.get("use") == "official":
            official = {k: name[k] for k in NAME_PARTS if name.get(k)}
            if official:
                return [official]
    return kept


def minimise_immunization(imm: Resource, patient_ref: str = "resource:0",
                          lookup_display: DisplayLookup | None = None) -> Resource:
    """Immunization with status, vaccineCode, patient, occurrence date, performer, lot only."""
    out: Resource = {"resourceType": "Immunization"}
    security = _security(imm)
    if security:
        out["meta"] = security
    out["status"] = imm.get("status")
    code = _codings(imm.get("vaccineCode"))
    if code:
        out["vaccineCode"] = code
    out["patient"] = {"reference": patient_ref}
    when = imm.get("occurrenceDateTime")
    if isinstance(when, str) and when:
        out["occurrenceDateTime"] = when[:10]  # the date is enough; time of day is not needed
    elif imm.get("occurrenceString"):
        out["occurrenceString"] = imm["occurrenceString"]
    performers = []
    for performer in imm.get("performer") or []:
        actor = performer.get("actor") if isinstance(performer, dict) else None
        display = _display(actor, lookup_display)
        if display:
            performers.append({"actor": {"display": display}})
    if performers:
        out["performer"] = performers
    if imm.get("lotNumber"):
        out["lotNumber"] = imm["lotNumber"]
    if imm.get("isSubpotent") is True:
        out["isSubpotent"] = True
    return out


def _display(reference: Any, lookup_display: DisplayLookup | None) -> str | None:
    """Reference.display, else the name found by lookup_display(reference) if given."""
    if not isinstance(reference, dict):
        return None
    if reference.get("display"):
        return str(reference["display"])
    target = reference.get("reference")
    if lookup_display is not None and isinstance(target, str):
        return lookup_display(target)
    return None


def build_bundle(patient: Resource, immunizations: Iterable[Resource],
                 lookup_display: DisplayLookup | None = None) -> Resource:
    """The card's collection Bundle: minimised Patient at resource:0, then each Immunization."""
    entries = [{"fullUrl": "resource:0", "resource": minimise_patient(patient)}]
    for n, imm in enumerate(immunizations, start=1):
        entries.append({"fullUrl": f"resource:{n}",
                        "resource": minimise_immunization(imm, "resource:0", lookup_display)})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def bundle_resources(bundle: Resource) -> tuple[Resource | None, list[Resource]]:
    """Inverse view of build_bundle: (the Patient, the Immunizations) found in a card's bundle."""
    patient: Resource | None = None
    immunizations: list[Resource] = []
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if resource.get("resourceType") == "Patient" and patient is None:
            patient = resource
        elif resource.get("resourceType") == "Immunization":
            immunizations.append(resource)
    return patient, immunizations


def displays_from(resources: Iterable[Resource]) -> DisplayLookup:
    """A lookup_display over Organization/Practitioner/Location names, keyed by reference."""
    names: dict[str, str] = {}
    for res in resources:
        rid, rtype = res.get("id"), res.get("resourceType")
        name = _resource_name(res)
        if rid and rtype and name:
            names[f"{rtype}/{rid}"] = name
            names[f"urn:uuid:{rid}"] = name
    return lambda ref: names.get(ref) or names.get(
        "/".join(ref.rstrip("/").rsplit("/", 2)[-2:]))


def _resource_name(res: Resource) -> str | None:
    """A human name for Organization/Location (name) or Practitioner (given + family)."""
    name = res.get("name")
    if isinstance(name, str):
        return name
    if isinstance(name, list) and name and isinstance(name[0], dict):
        first = name[0]
        parts = [*(first.get("prefix") or []), *(first.get("given") or []), first.get("family")]
        text = " ".join(p for p in parts if isinstance(p, str) and p)
        return text or first.get("text")
    return None
