"""A health-card verification result as a FHIR Parameters resource."""

from __future__ import annotations

from typing import Any

from fhir_server.health_cards.result import Dose, VerificationResult


def _dose(dose: Dose) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if dose.vaccine_code:
        parts.append({"name": "vaccineCode", "valueCoding": {
            k: v for k, v in (("system", dose.vaccine_system), ("code", dose.vaccine_code)) if v}})
    for name, value in (("occurrence", dose.date), ("lotNumber", dose.lot_number),
                        ("performer", dose.performer), ("status", dose.status)):
        if value:
            parts.append({"name": name, "valueString": value})
    return {"name": "dose", "part": parts} if parts else {"name": "dose", "valueString": "?"}


def verification_parameters(result: VerificationResult) -> dict[str, Any]:
    """verdict, reasons, warnings, issuer; subject (name, birthDate) and doses if valid.

    A card that is not valid (altered, untrusted, revoked, expired) says nothing about its
    holder: whoever sends it learns only why it was refused, no personal data."""
    parameters: list[dict[str, Any]] = [{"name": "verdict", "valueCode": result.verdict}]
    parameters += [{"name": "reason", "valueString": reason} for reason in result.reasons]
    parameters += [{"name": "warning", "valueString": text} for text in result.warnings]
    if result.issuer:
        parameters.append({"name": "issuer", "valueUri": result.issuer})
    if result.issuer_name:
        parameters.append({"name": "issuerName", "valueString": result.issuer_name})
    if not result.ok:
        return {"resourceType": "Parameters", "parameter": parameters}
    if result.subject is not None:
        subject: list[dict[str, Any]] = [{"name": "name", "valueString": result.subject.name}]
        if result.subject.birth_date:
            subject.append({"name": "birthDate", "valueDate": result.subject.birth_date})
        parameters.append({"name": "subject", "part": subject})
    parameters += [_dose(dose) for dose in result.doses]
    return {"resourceType": "Parameters", "parameter": parameters}
