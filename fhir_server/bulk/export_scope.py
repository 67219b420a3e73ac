"""Which resources an export holds (Bulk Data IG export.html: system, all patients, a Group).

- system: every stored type, i.e. every R4 type the server stores (or `_type`);
- Patient/$export: Patient resources and the resources of their Patient compartments
  (compartmentdefinition-patient.html: the Patient entry of fhir_server/spec/compartments.json);
- Group/[id]/$export: the same, for the Patients that are active members of the Group.
State as of the job's transactionTime: resources changed later are exported in their version at
that time (from history); `_since` keeps those changed after it. Deleted resources are not listed
(the manifest has no `deleted` array).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fhir_server.auth.compartment import compartment_params, compartment_term
from fhir_server.errors import InvalidRequest
from fhir_server.interactions.context import Services
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.search.criteria import EVERYTHING, Criteria, NamesPatient, Updated
from fhir_server.spec import patient_compartment

GROUP_CHUNK = 500  # patient ids per compartment query


def exportable_types(level: str) -> list[str]:
    """The types an export of this level covers by default."""
    if level == "system":
        return sorted(RESOURCE_TYPES)
    return ["Patient", *sorted(t for t in patient_compartment() if t in RESOURCE_TYPES
                               and t != "Patient" and compartment_params(t))]


def group_patients(group: dict[str, Any], base_url: str) -> list[str]:
    """Ids of the Patients that are active members of a Group (Group.member.entity)."""
    ids: list[str] = []
    for member in group.get("member") or []:
        if not isinstance(member, dict) or member.get("inactive") is True:
            continue
        reference = str((member.get("entity") or {}).get("reference", ""))
        if base_url and reference.startswith(base_url + "/"):
            reference = reference[len(base_url) + 1:]
        kind, _, patient_id = reference.partition("/")
        if kind == "Patient" and patient_id and "/" not in patient_id and patient_id not in ids:
            ids.append(patient_id)
    return ids


class ExportScope:
    """The resources of one export job, type by type."""

    def __init__(self, svc: Services, level: str, transaction_time: datetime,
                 since: datetime | None = None, patient_ids: list[str] | None = None) -> None:
        if level == "group" and patient_ids is None:
            raise InvalidRequest("A Group export needs the Group's patients")
        self.svc = svc
        self.level = level
        self.until = transaction_time
        self.since = since
        self.patient_ids = patient_ids or []

    def _scopes(self, type_name: str) -> Iterator[Criteria]:
        """The criteria whose union is this type's share of the export."""
        if self.level == "system" or (self.level == "patient" and type_name == "Patient"):
            yield EVERYTHING
        elif self.level == "patient":  # linked to some Patient by a compartment parameter
            yield Criteria((NamesPatient(compartment_params(type_name)),))
        else:
            for start in range(0, len(self.patient_ids), GROUP_CHUNK):
                yield Criteria((compartment_term(type_name,
                                                 self.patient_ids[start:start + GROUP_CHUNK]),))

    def resources(self, type_name: str) -> Iterator[dict[str, Any]]:
        """Every resource of the type in scope, as of the transaction time (no duplicates)."""
        store = self.svc.store
        seen: set[str] | None = set() if len(self.patient_ids) > GROUP_CHUNK else None
        window = Updated(gt=self.since, lte=self.until)
        for scope in self._scopes(type_name):
            for version in store.find(type_name, scope.and_(window)):
                if seen is not None:
                    if version.id in seen:
                        continue
                    seen.add(version.id)
                if version.resource is not None:
                    yield version.resource
            for newer in store.find(type_name, scope.and_(Updated(gt=self.until))):
                if seen is not None and newer.id in seen:
                    continue
                yield from self._as_of_transaction_time(type_name, newer.id, seen)

    def _as_of_transaction_time(self, type_name: str, resource_id: str,
                                seen: set[str] | None) -> Iterator[dict[str, Any]]:
        """The version current at the transaction time of a resource changed after it."""
        page = self.svc.store.history(type_name, resource_id, since=self.since,
                                      until=self.until, offset=0, count=1)
        if page.versions and page.versions[0].resource is not None:
            if seen is not None:
                seen.add(resource_id)
            yield page.versions[0].resource
