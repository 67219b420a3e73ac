"""The Vietnamese profiles and extensions: differentials (snapshots are generated).

Rules are data: cardinality, fixed/pattern values, bindings and FHIRPath invariants; the two
checks FHIRPath cannot express nicely are named custom rules (see fhir_server/validation/
custom_rules.py), referenced from a constraint by the `validation-custom-rule` extension.
"""

from __future__ import annotations

from typing import Any

from common import (
    CUSTOM_RULE,
    REACTION,
    SD,
    SERIOUSNESS,
    SNOMED,
    SYSTEMS,
    VS,
    common,
    constraint,
    terminology,
)
from snapshot import structure_definition

PROVINCE_EXT = f"{SD}/vn-address-province"
COMMUNE_EXT = f"{SD}/vn-address-commune"
PRIORITY_EXT = f"{SD}/vn-priority-group"
FORMATS = {  # identifier kind -> (regular expression, human description)
    "cccd": ("^[0-9]{12}$", "a CCCD (citizen identity card) number is 12 digits"),
    "cmnd": ("^[0-9]{9}$", "a CMND (people's identity card) number is 9 digits"),
    "bhyt": ("^([A-Z]{2}[1-5][0-9]{12}|[0-9]{10}|[0-9]{12})$",
             "a BHYT (health insurance) card number is 2 letters + benefit level 1-5 + 12 digits,"
             " or the 10-digit BHXH number, or the 12-digit CCCD number"),
    "bhxh": ("^[0-9]{10}$", "a BHXH (social insurance) number is 10 digits"),
    "passport": ("^[A-Z][0-9]{7}$", "a Vietnamese passport number is 1 letter + 7 digits"),
}
SERIOUS_REACTIONS = ("co-giat", "guillain-barre", "kho-tho", "liet-mat", "phan-ve", "tts",
                     "viem-co-tim", "viem-mang-ngoai-tim")


def _binding(strength: str, value_set: str, description: str) -> dict[str, Any]:
    return {"strength": strength, "valueSet": value_set, "description": description}


def _reference(*types: str) -> list[dict[str, Any]]:
    return [{"code": "Reference", "targetProfile": [f"http://hl7.org/fhir/StructureDefinition/{t}"
                                                    for t in types]}]


def _extension_slice(path: str, name: str, url: str, short: str) -> list[dict[str, Any]]:
    return [{"id": path, "slicing": {"discriminator": [{"type": "value", "path": "url"}],
                                     "ordered": False, "rules": "open"}},
            {"id": f"{path}:{name}", "sliceName": name, "short": short, "min": 0, "max": "1",
             "type": [{"code": "Extension", "profile": [url]}]}]


def _party(kind: str) -> str:
    """FHIRPath: a participant actor refers to a resource of this kind."""
    return (f"(reference.startsWith('{kind}/') or reference.contains('/{kind}/') "
            f"or type = '{kind}')")


def patient() -> dict[str, Any]:
    """VN Patient: demographics required, identifier formats, E.164 phones, coded addresses."""
    id_rules = [constraint(f"vn-pat-{i}", f"When system is '{SYSTEMS[kind]}', {human}",
                           f"system = '{SYSTEMS[kind]}' implies value.matches('{regex}')")
                for i, (kind, (regex, human)) in enumerate(FORMATS.items(), start=1)]
    vn = "(country.empty() or country = 'VN')"
    return structure_definition(
        url=f"{SD}/vn-patient", id="vn-patient", name="VnPatient", title="VN Patient",
        description="A citizen in the electronic health book (Sổ sức khỏe điện tử).",
        base_type="Patient", common=common(), differential=[
            {"id": "Patient", "constraint": [constraint(
                "vn-pat-6", "A CCCD number's province code, century/sex digit and year digits "
                "agree with the patient's gender and birth date", rule="vn-cccd-consistency")]},
            {"id": "Patient.identifier", "min": 1, "constraint": id_rules},
            {"id": "Patient.name", "min": 1, "constraint": [constraint(
                "vn-pat-7", "A name has a family name, a given name or a text",
                "family.exists() or given.exists() or text.exists()")]},
            {"id": "Patient.telecom", "constraint": [constraint(
                "vn-pat-8", "Phone and SMS numbers are in E.164 form (+84...)",
                "(system = 'phone' or system = 'sms') implies "
                "value.matches('^[+][1-9][0-9]{6,14}$')")]},
            {"id": "Patient.gender", "min": 1},
            {"id": "Patient.birthDate", "min": 1},
            {"id": "Patient.address", "constraint": [
                constraint("vn-pat-9", "A Vietnamese address has a province code",
                           f"{vn} implies extension('{PROVINCE_EXT}').exists()"),
                constraint("vn-pat-10", "A Vietnamese address has a commune code",
                           f"{vn} implies extension('{COMMUNE_EXT}').exists()"),
                constraint("vn-pat-11", "The commune lies in the province",
                           rule="vn-commune-in-province")]},
            *_extension_slice("Patient.address.extension", "province", PROVINCE_EXT,
                              "Province (tỉnh/thành phố) code"),
            *_extension_slice("Patient.address.extension", "commune", COMMUNE_EXT,
                              "Commune/ward (xã/phường/đặc khu) code")[1:],
        ])


def immunization() -> dict[str, Any]:
    """VN Immunization: a vaccination record of the campaign."""
    return structure_definition(
        url=f"{SD}/vn-immunization", id="vn-immunization", name="VnImmunization",
        title="VN Immunization", base_type="Immunization", common=common(),
        description="A COVID-19 vaccination given (or not given) at a vaccination site.",
        differential=[
            {"id": "Immunization", "constraint": [
                constraint("vn-imm-1", "A completed vaccination records the vaccine lot number",
                           "status = 'completed' implies lotNumber.exists()"),
                constraint("vn-imm-2", "A vaccination not done gives the reason",
                           "status = 'not-done' implies statusReason.exists()",
                           severity="warning")]},
            {"id": "Immunization.status", "binding": _binding(
                "required", f"{VS}/vn-immunization-status", "completed | not-done")},
            {"id": "Immunization.vaccineCode", "binding": _binding(
                "required", terminology("ValueSet", "vn-covid19-vaccine"),
                "COVID-19 vaccines used in Viet Nam")},
            {"id": "Immunization.occurrence[x]", "type": [{"code": "dateTime"}]},
            {"id": "Immunization.location", "min": 1},
            {"id": "Immunization.performer", "min": 1},
            {"id": "Immunization.protocolApplied", "min": 1},
            {"id": "Immunization.protocolApplied.doseNumber[x]",
             "type": [{"code": "positiveInt"}]},
        ])


def adverse_event() -> dict[str, Any]:
    """VN AdverseEvent: a reaction after vaccination (phản ứng sau tiêm chủng)."""
    serious = " | ".join(f"'{code}'" for code in SERIOUS_REACTIONS)
    return structure_definition(
        url=f"{SD}/vn-adverse-event-immunization", id="vn-adverse-event-immunization",
        name="VnAdverseEventImmunization", title="VN post-vaccination reaction",
        base_type="AdverseEvent", common=common(),
        description="A reaction observed after a vaccination; `date` is the onset.",
        differential=[
            {"id": "AdverseEvent", "constraint": [constraint(
                "vn-ae-1", "A serious reaction (Ministry warning sign) is recorded as serious",
                f"event.coding.where(system = '{REACTION}' and (code in ({serious}))).exists() "
                f"implies seriousness.coding.where(system = '{SERIOUSNESS}' and "
                "code = 'serious').exists()", severity="warning")]},
            {"id": "AdverseEvent.actuality", "fixedCode": "actual"},
            {"id": "AdverseEvent.event", "min": 1, "binding": _binding(
                "extensible", terminology("ValueSet", "vn-post-vaccination-reaction"),
                "Post-vaccination reactions (Ministry of Health guidance)")},
            {"id": "AdverseEvent.subject", "type": _reference("Patient")},
            {"id": "AdverseEvent.date", "min": 1, "short": "Onset of the reaction"},
            {"id": "AdverseEvent.seriousness", "min": 1, "binding": _binding(
                "required", f"{VS}/vn-adverse-event-seriousness", "serious | non-serious")},
            {"id": "AdverseEvent.suspectEntity", "min": 1},
            {"id": "AdverseEvent.suspectEntity.instance", "type": _reference("Immunization")},
        ])


def appointment_vaccination() -> dict[str, Any]:
    """VN Appointment for a vaccination registration (đăng ký tiêm chủng)."""
    return structure_definition(
        url=f"{SD}/vn-appointment-vaccination", id="vn-appointment-vaccination",
        name="VnAppointmentVaccination", title="VN vaccination registration",
        base_type="Appointment", common=common(),
        description="A citizen's registration for a vaccination session at a site.",
        differential=[
            {"id": "Appointment", "constraint": [
                constraint("vn-appt-1", "The registered citizen is a participant",
                           f"participant.actor.where{_party('Patient')}.exists()"),
                constraint("vn-appt-2", "The vaccination site is a participant",
                           f"participant.actor.where{_party('Location')}.exists()")]},
            *_extension_slice("Appointment.extension", "priorityGroup", PRIORITY_EXT,
                              "Priority group of the campaign"),
            {"id": "Appointment.serviceType", "min": 1, "max": "1", "patternCodeableConcept": {
                "coding": [{"system": SNOMED, "code": "33879002"}]}},
            {"id": "Appointment.start", "min": 1},
        ])


def appointment_booking() -> dict[str, Any]:
    """VN Appointment for a medical visit booking (đặt lịch khám)."""
    return structure_definition(
        url=f"{SD}/vn-appointment-booking", id="vn-appointment-booking",
        name="VnAppointmentBooking", title="VN medical appointment booking",
        base_type="Appointment", common=common(),
        description="A citizen's booking of a medical consultation.",
        differential=[
            {"id": "Appointment", "constraint": [
                constraint("vn-book-1", "The patient is a participant",
                           f"participant.actor.where{_party('Patient')}.exists()"),
                constraint("vn-book-2", "A practitioner, practitioner role or location is a "
                           "participant", "participant.actor.where(" + " or ".join(
                               _party(k) for k in ("Practitioner", "PractitionerRole",
                                                   "Location")) + ").exists()")]},
            {"id": "Appointment.appointmentType", "min": 1, "binding": _binding(
                "extensible", f"{VS}/vn-appointment-type", "Kind of visit (HL7 v2 0276)")},
            {"id": "Appointment.serviceType", "min": 1},
            {"id": "Appointment.start", "min": 1},
            {"id": "Appointment.end", "min": 1},
        ])


def _coding_extension(id: str, name: str, title: str, context: str,  # noqa: A002
                      value_set: str) -> dict[str, Any]:
    url = f"{SD}/{id}"
    return structure_definition(
        url=url, id=id, name=name, title=title, base_type="Extension", common=common(),
        description=f"{title} (a code of {value_set}).",
        context=[{"type": "element", "expression": context}], differential=[
            {"id": "Extension", "short": title},
            {"id": "Extension.extension", "max": "0"},
            {"id": "Extension.url", "fixedUri": url},
            {"id": "Extension.value[x]", "min": 1, "type": [{"code": "Coding"}],
             "binding": _binding("required", value_set, title)},
        ])


def _identity_verification() -> dict[str, Any]:
    """Complex extension: who verified a Patient's identity, when, and its fingerprint."""
    url = f"{SD}/vn-identity-verification"
    # The parts are documented here, not sliced: the validator checks extension slices only
    # when they have their own profile; identity.py checks the parts.
    parts = ("verifier (valueString 1..1: staff/<account> or system/<client>), verified "
             "(valueDateTime 1..1), fingerprint (valueString 1..1: sha256:<hex> of the "
             "canonical JSON of name, birthDate and identifier as verified), site "
             "(valueReference 0..1: Location or Organization)")
    differential: list[dict[str, Any]] = [
        {"id": "Extension", "short": "Identity verified at a vaccination site or hospital"},
        {"id": "Extension.extension", "min": 3, "short": "verifier, verified, fingerprint, site",
         "definition": f"The parts, by url: {parts}."}]
    differential += [{"id": "Extension.url", "fixedUri": url},
                     {"id": "Extension.value[x]", "max": "0"}]
    return structure_definition(
        url=url, id="vn-identity-verification", name="VnIdentityVerification",
        title="Identity verification", base_type="Extension", common=common(),
        description="The Patient's identity fields (name, birthDate, identifier) were checked "
        "against identity papers by a vaccination site or hospital: who, when, where, and the "
        "fingerprint of the verified fields (fhir_server/health_cards/identity.py). Citizens "
        "cannot add or change it; health cards are issued only from verified identity data.",
        context=[{"type": "element", "expression": "Patient"}], differential=differential)


def extensions() -> list[dict[str, Any]]:
    """The extensions the profiles use, and the custom-rule marker on constraints."""
    custom = structure_definition(
        url=CUSTOM_RULE, id="validation-custom-rule", name="ValidationCustomRule",
        title="Validation custom rule", base_type="Extension", common=common(),
        description="Names a rule implemented by the server (fhir_server/validation/"
        "custom_rules.py) that checks what the constraint's human text says.",
        context=[{"type": "element", "expression": "ElementDefinition.constraint"}],
        differential=[{"id": "Extension.extension", "max": "0"},
                      {"id": "Extension.url", "fixedUri": CUSTOM_RULE},
                      {"id": "Extension.value[x]", "min": 1, "type": [{"code": "code"}]}])
    return [
        _coding_extension("vn-address-province", "VnAddressProvince", "Province code", "Address",
                          terminology("ValueSet", "vn-province")),
        _coding_extension("vn-address-commune", "VnAddressCommune", "Commune code", "Address",
                          terminology("ValueSet", "vn-commune")),
        _coding_extension("vn-priority-group", "VnPriorityGroup", "COVID-19 vaccination "
                          "priority group", "Appointment",
                          terminology("ValueSet", "vn-covid19-priority-group")),
        _identity_verification(),
        custom,
    ]


def all_structure_definitions() -> list[dict[str, Any]]:
    """Every generated StructureDefinition."""
    return [patient(), immunization(), adverse_event(), appointment_vaccination(),
            appointment_booking(), *extensions()]
