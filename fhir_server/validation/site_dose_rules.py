"""What a vaccination site must record with a dose (issue 14 point 5; the vn-immunization
profile's requirements for a given dose): the lot number (vn-imm-1), the dose number
(protocolApplied.doseNumber[x]), the site (location, or the site's Organization among the
performers) and who gave it (performer.actor).

Checked on every completed Immunization a site's staff write, claimed profile or not, so the
certificate, the next-dose forecast and a reaction report can rely on them. Hospital systems'
and imported records (other callers) are kept as sent.
"""

from __future__ import annotations

from typing import Any

from fhir_server.auth.principal import STAFF, current_principal
from fhir_server.errors import Issue


class SiteDoseChecker:
    """The ResourceChecker for the elements of a dose a site records."""

    def check(self, resource: dict[str, Any]) -> list[Issue]:
        """Issues for a completed Immunization written by staff missing what a site records."""
        if resource.get("resourceType") != "Immunization" or \
                resource.get("status") != "completed" or current_principal().kind != STAFF:
            return []
        missing = []
        if not resource.get("lotNumber"):
            missing.append(("Immunization.lotNumber", "the vaccine lot number"))
        if not any(isinstance(p, dict) and (p.get("doseNumberPositiveInt") or
                                            p.get("doseNumberString"))
                   for p in resource.get("protocolApplied") or []):
            missing.append(("Immunization.protocolApplied", "the dose number "
                            "(protocolApplied.doseNumberPositiveInt)"))
        performers = [str((p.get("actor") or {}).get("reference") or "")
                      for p in resource.get("performer") or [] if isinstance(p, dict)]
        if not resource.get("location") and not any(r.startswith("Organization/")
                                                     for r in performers):
            missing.append(("Immunization.location", "the vaccination site (location, or "
                            "the site's Organization as a performer)"))
        if not any(isinstance(p, dict) and p.get("actor") for p in resource.get("performer")
                   or []):
            missing.append(("Immunization.performer", "who gave the dose (performer.actor)"))
        return [Issue("required", f"A dose recorded by a vaccination site needs {what}",
                      expression=(where,)) for where, what in missing]
