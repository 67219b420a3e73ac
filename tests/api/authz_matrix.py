"""The authorization matrix runner (issue 11 point 6): tests/data/authz_matrix.json expanded into
cells (caller x door x target) and performed over the Flask test client.

For every cell it collects every resource that comes out (searchset matches and include /
revinclude outcomes, batch and transaction entries, history versions, `$everything`, export NDJSON
files, health-card payloads decoded) and checks it against an oracle that knows whose record each
resource is (it seeded them) — independent of the server's own rules:

- LEAK: a resource the caller may not see (another person's record, a type not for this caller);
- UNAUTHORISED WRITE: a refused write that is in the database afterwards (checked by an admin
  read: tag search, changed content, tombstone, version);
- MISSING AUDIT: with FHIR_AUDIT=all, a personal-data access (allowed or refused) that recorded no
  AuditEvent for this caller, or none naming the resource / with the right outcome;
- OUTCOME: the answer differs from the caller class's expected outcome (allowed / denied /
  allowed-but-filtered), e.g. an allowed search that misses the caller's own record;
- SERVER ERROR: a 5xx anywhere.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from fhir_server.auth.audit import audit_event, outcome_code
from fhir_server.auth.principal import INTERNAL_PRINCIPAL, Principal, acting_as
from fhir_server.health_cards.encoding import numeric_to_jws
from fhir_server.health_cards.identity import mark_verified
from fhir_server.health_cards.issue import decode_card
from fhir_server.health_cards.service import card_id
from fhir_server.interactions import crud
from tests.api.auth_helpers import bearer, register
from tests.api.test_auth_matrix import World, _immunization
from tests.conftest import BASE_URL, DATA

MATRIX: dict[str, Any] = json.loads((DATA / "authz_matrix.json").read_text(encoding="utf-8"))
CALLERS: dict[str, dict[str, Any]] = MATRIX["callers"]
DOORS: list[dict[str, Any]] = MATRIX["doors"]
PROFILES: dict[str, dict[str, str]] = MATRIX["profiles"]
BODIES: dict[str, Any] = MATRIX["bodies"]
VISIBILITY: dict[str, Any] = MATRIX["visibility"]
CARRIERS = frozenset(VISIBILITY["carriers"])
PERSON_TARGETS = ("own", "family", "other")
TAG_SYSTEM = "urn:authz-matrix"
FHIR_JSON = "application/fhir+json"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_REFERENCE = re.compile(r"^(?:[A-Za-z]+://[^ ]*?/)?([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})"
                        r"(?:/_history/\d+)?$")
NAMES = {"a": "Hoàng Văn Solo", "b": "Đỗ Văn Beta", "h": "Phạm Văn Alpha", "f": "Phạm Thị Family"}
WORDS = {"a": "Solo", "b": "Beta", "h": "Alpha", "f": "Family"}  # one distinctive word each
MOVED_FROM = {"a": "b", "b": "h", "h": "b", "f": "b"}  # whose record a moved Immunization was


class Unresolved(LookupError):
    """A placeholder with no value for this cell (a caller without family, ...)."""


# -- the world ---------------------------------------------------------------------------------

class MatrixWorld(World):
    """World (tests/api/test_auth_matrix.py) plus citizen A alone and one record of every
    patient-compartment type per person, moved records, cards, AuditEvents and an export."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app, verified=True)
        self.web: FlaskClient = app.test_client()
        self.svc = app.extensions["fhir"].internal()
        auth = self.svc.components["auth"]
        self.audit_sink = auth.audit
        solo = register(app, self.web, NAMES["a"])
        self.tokens["citizen_a"] = bearer(solo["access_token"])
        system_scope = CALLERS["system"].get("scope", "system/*.read")
        self.tokens["system"] = bearer(auth.token_for(system_scope, 3600, "site-system"))
        self.patients = {"a": solo["patient"], "b": self.b["patient"], "h": self.a["patient"],
                         "f": self.family}
        self.person_of = {pid: p for p, pid in self.patients.items()}
        self.owner: dict[str, str] = {}  # "Type/id" -> person (the seeded records)
        self.records: dict[str, dict[str, str | None]] = {p: {} for p in self.patients}
        self.shared: dict[str, str] = {}
        with acting_as(INTERNAL_PRINCIPAL):
            self._seed()
        self._issue_cards()
        self._export()
        self.spy = AuditSpy(self.audit_sink)

    # seeding (as the server itself, like World does)
    def create(self, resource: dict[str, Any], person: str | None = None) -> str:
        with acting_as(INTERNAL_PRINCIPAL):
            rid = crud.create(self.svc, resource["resourceType"], resource).version.id
        if person is not None:
            self.owner[f"{resource['resourceType']}/{rid}"] = person
        return str(rid)

    def _seed(self) -> None:
        stored = self.svc.store.read("Patient", self.patients["a"]).resource or {}
        crud.update(self.svc, "Patient", self.patients["a"], mark_verified(
            stored, "site-nurse", "2021-09-10T08:00:00+07:00"))
        imms = {"h": self.imm["a"], "f": self.imm["f"], "b": self.imm["b"],
                "a": self.create(_immunization(self.patients["a"], "LOT-solo"), "a")}
        lots = {"h": "LOT-a", "f": "LOT-f", "b": "LOT-b", "a": "LOT-solo"}
        for person, rid in imms.items():
            self.owner[f"Immunization/{rid}"] = person
        self.owner[f"AdverseEvent/{self.reaction_b}"] = "b"
        practitioner = self.create({"resourceType": "Practitioner", "name": [{"family": "Nurse"}]})
        location = self.create({"resourceType": "Location", "name": "Matrix site"})
        code_system = self.create({"resourceType": "CodeSystem", "url": "urn:authz-matrix:cs",
                                   "status": "active", "content": "complete",
                                   "concept": [{"code": "ok", "display": "OK"}]})
        value_set = self.create({"resourceType": "ValueSet", "url": "urn:authz-matrix:vs",
                                 "status": "active", "compose": {"include": [
                                     {"system": "urn:authz-matrix:cs"}]}})
        members = [{"entity": {"reference": f"Patient/{pid}"}} for pid in self.patients.values()]
        group = self.create({"resourceType": "Group", "type": "person", "actual": True,
                             "member": members})
        self.shared = {"org": self.org, "location": location, "group": group,
                       "practitioner": practitioner, "code_system": code_system,
                       "value_set": value_set, "cs_url": "urn:authz-matrix:cs",
                       "vs_url": "urn:authz-matrix:vs"}
        related = self.svc.search.match("RelatedPerson", [("patient", self.family)])
        for person, pid in self.patients.items():
            ref = {"reference": f"Patient/{pid}"}
            nurse = {"reference": f"Practitioner/{practitioner}"}
            record = self.records[person]
            record.update(patient=pid, immunization=imms[person], name=WORDS[person],
                          lot=lots[person], related_person=None)
            record["adverse_event"] = self.reaction_b if person == "b" else self.create(
                {"resourceType": "AdverseEvent", "actuality": "actual", "subject": ref,
                 "date": "2021-09-11"}, person)
            record["communication"] = self.create({
                "resourceType": "Communication", "status": "completed", "subject": ref,
                "recipient": [ref], "sender": nurse,
                "payload": [{"contentString": f"Reminder for {WORDS[person]}"}]}, person)
            record["appointment"] = self.create({
                "resourceType": "Appointment", "status": "booked",
                "start": "2021-10-01T08:00:00+07:00", "end": "2021-10-01T08:15:00+07:00",
                "participant": [{"actor": ref, "status": "accepted"},
                                {"actor": nurse, "status": "accepted"}]}, person)
            record["flag"] = self.create({"resourceType": "Flag", "status": "active",
                                          "code": {"text": "allergy"}, "subject": ref}, person)
            record["questionnaire_response"] = self.create({
                "resourceType": "QuestionnaireResponse", "status": "completed",
                "subject": ref}, person)
            record["measure_report"] = self.create({
                "resourceType": "MeasureReport", "status": "complete", "type": "individual",
                "measure": "urn:authz-matrix:measure", "subject": ref,
                "period": {"start": "2021-01-01", "end": "2021-12-31"}}, person)
            record["schedule"] = self.create({"resourceType": "Schedule", "actor": [ref]},
                                             person)
            event = audit_event(Principal("citizen", f"seed-{person}"), "GET", "read",
                                [f"Patient/{pid}"], None, 200, "2021-09-10T08:00:00+07:00")
            record["audit_event"] = self.create(event, person)
            moved = self.create(_immunization(self.patients[MOVED_FROM[person]],
                                              f"MOVED-{person}"))
            crud.update(self.svc, "Immunization", moved,
                        {**_immunization(pid, f"MOVED-{person}"), "id": moved})
            record["moved_immunization"] = moved  # v1 was someone else's: no owner by id
            if person == "f" and related:
                record["related_person"] = related[0].id
                self.owner[f"RelatedPerson/{related[0].id}"] = "f"

    def _issue_cards(self) -> None:
        cards = self.svc.components["health_cards"]
        for person, pid in self.patients.items():
            with acting_as(INTERNAL_PRINCIPAL):
                patient = self.svc.store.read("Patient", pid).resource or {}
                imms = [self.svc.store.read("Immunization", str(rid)).resource or {}
                        for rid in (self.records[person]["immunization"],
                                    self.records[person]["moved_immunization"])]
            issued = cards.issue(patient, imms)
            self.records[person]["card"] = card_id(issued[0].jws)
            self.records[person]["card_jws"] = issued[0].jws

    def _export(self) -> None:
        """One finished Patient-level export by the system client: its status and first file."""
        headers = self.tokens["system"]
        started = self.web.get("/Patient/$export?_type=Patient,Immunization", headers=headers)
        assert started.status_code == 202, started.get_data(as_text=True)
        status = started.headers["Content-Location"].removeprefix(BASE_URL)
        deadline = time.monotonic() + 60
        while True:
            polled = self.web.get(status, headers=headers)
            if polled.status_code != 202 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert polled.status_code == 200, polled.get_data(as_text=True)
        output = polled.get_json()["output"]
        first = next(item for item in output if item["type"] == "Patient")
        self.shared["export_status"] = status
        self.shared["export_file"] = first["url"].removeprefix(BASE_URL)

    # placeholders
    def context(self, caller: str, target: str) -> dict[str, str | None]:
        """What the placeholders of a cell resolve to."""
        spec = CALLERS[caller]
        ctx: dict[str, str | None] = dict(self.shared)
        for role in PERSON_TARGETS:
            person = spec[role]
            for key in self.records["a"]:
                ctx[f"{role}_{key}"] = self.records[person][key] if person else None
        # a citizen writes as themself; staff and systems write about the target person only,
        # so no record they make ties two citizens together (which would then rightly show in
        # both compartments, and read as a leak to the oracle)
        writer = spec["own"]
        if spec["class"] != "citizen" and target in PERSON_TARGETS and spec[target]:
            writer = spec[target]
        ctx["self_patient"] = self.patients[writer]
        if target in PERSON_TARGETS:
            person = spec[target]
            for key in self.records["a"]:
                ctx[key] = self.records[person][key] if person else None
        return ctx

    def allowed_persons(self, caller: str) -> set[str]:
        spec = CALLERS[caller]
        if spec["class"] != "citizen":
            return set(self.patients)
        return {p for p in (spec["own"], spec["family"]) if p}

    def agent_matches(self, caller: str, event: dict[str, Any]) -> bool:
        """Whether an AuditEvent names this caller as its agent."""
        spec = CALLERS[caller]
        who = (event.get("agent") or [{}])[0].get("who", {})
        if spec["class"] == "citizen":
            return bool(who.get("reference") == f"Patient/{self.patients[spec['own']]}")
        kind = {"anonymous": "anonymous", "system": "system"}.get(spec["class"], "staff")
        return bool(who.get("identifier", {}).get("system") == f"urn:fhir-server:{kind}")

    # admin reads (the database state after a write)
    def admin_get(self, url: str) -> TestResponse:
        return self.web.get(url, headers=self.tokens["admin"])

    def tagged(self, type_name: str, marker: str) -> bool:
        query = urlencode({"_tag": f"{TAG_SYSTEM}|{marker}", "_count": "5"})
        response = self.admin_get(f"/{type_name}?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return any(entry.get("search", {}).get("mode", "match") == "match"
                   for entry in response.get_json().get("entry", []))

    def current(self, ref: str) -> dict[str, Any]:
        type_name, _, rid = ref.partition("/")
        with acting_as(INTERNAL_PRINCIPAL):
            return copy.deepcopy(crud.read(self.svc, type_name, rid).resource or {})


class AuditSpy:
    """Records the AuditEvents the server hands to its audit sink (then lets them through)."""

    def __init__(self, sink: Any) -> None:
        self.events: list[dict[str, Any]] = []
        self.kept: list[str] = []  # ids of every event seen in a cell (checked as stored later)
        original = sink.record

        def record(event: dict[str, Any]) -> None:
            original(event)  # gives the event its id
            self.events.append(event)

        sink.record = record

    def take(self) -> list[dict[str, Any]]:
        events, self.events = self.events, []
        return events


# -- cells -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One attempt: a caller, a door, a target (own / family / other of the caller, or none)."""

    caller: str
    door: str
    target: str

    @property
    def spec(self) -> dict[str, Any]:
        return DOOR_BY_ID[self.door]

    @property
    def name(self) -> str:
        return f"{self.caller}:{self.door}:{self.target}"


DOOR_BY_ID = {door["id"]: door for door in DOORS}
assert len(DOOR_BY_ID) == len(DOORS), "door ids must be unique"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in ("$body", "$with_id") and isinstance(item, str):
                yield from _strings(BODIES[item])
            else:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


PERSON_KEYS = frozenset({"patient", "immunization", "adverse_event", "communication",
                         "appointment", "flag", "questionnaire_response", "measure_report",
                         "schedule", "audit_event", "moved_immunization", "related_person",
                         "card", "card_jws", "name", "lot"})


def targets_of(door: dict[str, Any]) -> list[str]:
    """The targets a door is tried on: own/family/other when it names the target's records."""
    if "targets" in door:
        return list(door["targets"])
    if "scratch" in door:
        return list(PERSON_TARGETS)  # a fresh record of the target person
    fields = [door.get(k) for k in ("url", "body", "form", "headers", "landed", "expect_ids",
                                    "audit_ref", "discloses")]
    if isinstance(door.get("body"), str):
        fields.append(BODIES[door["body"]])
    names = {m for text in _strings(fields) for m in _PLACEHOLDER.findall(text)}
    return list(PERSON_TARGETS) if names & PERSON_KEYS else ["none"]


@dataclass(frozen=True)
class Expectation:
    kind: str  # allow | deny | refuse | any | skip
    status: int | None = None


def expectation(cell: Cell) -> Expectation:
    """The expected outcome of a cell, from the door's profile and overrides."""
    spec = CALLERS[cell.caller]
    wanted = cell.spec["expect"]
    table = dict(PROFILES[wanted]) if isinstance(wanted, str) else {
        **PROFILES[wanted["use"]], **{k: v for k, v in wanted.items() if k != "use"}}
    token = table.get(cell.caller, table[spec["class"]])
    kind, _, status = token.partition(":")
    if kind == "own":
        if cell.target == "other":
            return Expectation("deny", int(status)) if status else Expectation("refuse")
        kind, status = "allow", ""
    return Expectation(kind, int(status) if status else None)


def all_cells() -> list[Cell]:
    """Every caller x door x target cell the data describes (before placeholders resolve)."""
    cells = []
    for caller in CALLERS:
        for door in DOORS:
            for target in targets_of(door):
                if target in PERSON_TARGETS and CALLERS[caller][target] is None:
                    continue  # no family: no such target
                cell = Cell(caller, door["id"], target)
                if expectation(cell).kind != "skip":
                    cells.append(cell)
    return cells


def known_failures() -> dict[Cell, tuple[frozenset[str], str]]:
    """Cells of known server defects: the failure kinds allowed there, and why."""
    known: dict[Cell, tuple[frozenset[str], str]] = {}
    for entry in MATRIX["known_failures"]:
        unknown = set(entry["doors"]) - set(DOOR_BY_ID)
        assert not unknown, f"known_failures names unknown doors {unknown}"
        for cell in all_cells():
            callers, targets = entry.get("callers", "*"), entry.get("targets", "*")
            if cell.door in entry["doors"] and (callers == "*" or cell.caller in callers) and (
                    targets == "*" or cell.target in targets):
                kinds, reasons = known.get(cell, (frozenset(), ""))
                known[cell] = (kinds | set(entry["kinds"]),
                               "; ".join(r for r in (reasons, entry["reason"]) if r))
    return known


def cells_for(world: MatrixWorld, caller: str, *, doors: Iterable[str] | None = None,
              with_known: bool = False) -> list[Cell]:
    """The cells of one caller whose placeholders resolve (known defects left out unless
    asked for: they run as strict xfails)."""
    known = known_failures()
    chosen = set(doors) if doors is not None else None
    cells = []
    for cell in all_cells():
        if cell.caller != caller or (chosen is not None and cell.door not in chosen) or (
                not with_known and cell in known):
            continue
        door = cell.spec
        ctx = {**world.context(caller, cell.target), "marker": "probe", "scratch": "probe"}
        try:
            for part in ("url", "expect_ids", "form", "headers", "body"):
                template = door.get(part)
                render(BODIES[template] if part == "body" and isinstance(template, str)
                       else template, ctx, world, probe=True)
        except Unresolved:
            continue
        cells.append(cell)
    return cells


def render(value: Any, ctx: dict[str, str | None], world: MatrixWorld | None = None,
           probe: bool = False) -> Any:
    """A template with its placeholders filled ($body, $with_id, $current: see the JSON)."""
    if isinstance(value, str):
        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in ctx:
                raise KeyError(f"unknown placeholder {{{key}}} in {value!r}")
            found = ctx[key]
            if found is None:
                raise Unresolved(key)
            return str(found)
        return _PLACEHOLDER.sub(fill, value)
    if isinstance(value, list):
        return [render(item, ctx, world, probe) for item in value]
    if isinstance(value, dict):
        if isinstance(value.get("$body"), str):
            return render(BODIES[value["$body"]], ctx, world, probe)
        if isinstance(value.get("$with_id"), str):
            body = render(BODIES[value["$with_id"]], ctx, world, probe)
            body["id"] = render(value.get("id", "{scratch}"), ctx) if not probe else "probe"
            return body
        if isinstance(value.get("$current"), str):
            ref = render(value["$current"], ctx)
            merge = render(value.get("merge", {}), ctx, world, probe)
            if probe or world is None:
                return merge
            return {**world.current(ref), **merge}
        return {key: render(item, ctx, world, probe) for key, item in value.items()}
    return value


# -- what came out -----------------------------------------------------------------------------

@dataclass
class Found:
    """One resource that came out of a door (owner: whose card it was, when ids are gone)."""

    resource: dict[str, Any]
    where: str
    owner: str | None = None


def _card_resources(world: MatrixWorld, jws: str, where: str) -> Iterator[Found]:
    _, claims = decode_card(jws)
    bundle = claims.get("vc", {}).get("credentialSubject", {}).get("fhirBundle", {})
    resources = [e.get("resource") or {} for e in bundle.get("entry", [])]
    text = json.dumps([r for r in resources if r.get("resourceType") == "Patient"],
                      ensure_ascii=False)
    owners = [p for p, word in WORDS.items() if word in text]
    owner = owners[0] if len(owners) == 1 else "unknown card holder"
    for resource in resources:
        yield Found(resource, where + " (card)", owner)


def _walk(world: MatrixWorld, doc: Any, where: str) -> Iterator[Found]:
    if isinstance(doc, list):
        for item in doc:
            yield from _walk(world, item, where)
        return
    if not isinstance(doc, dict):
        return
    if "verifiableCredential" in doc and "resourceType" not in doc:  # .smart-health-card
        for jws in doc.get("verifiableCredential") or []:
            yield from _card_resources(world, str(jws), where)
        return
    kind = doc.get("resourceType")
    if kind == "Bundle":
        for number, entry in enumerate(doc.get("entry") or []):
            yield from _walk(world, entry.get("resource"), f"{where} entry[{number}]")
            outcome = (entry.get("response") or {}).get("outcome")
            yield from _walk(world, outcome, f"{where} entry[{number}].response")
        return
    if kind == "Parameters":
        for parameter in doc.get("parameter") or []:
            yield from _walk(world, parameter.get("resource"), where)
            yield from _walk(world, {"resourceType": "Parameters",
                                     "parameter": parameter.get("part") or []}, where)
            value = parameter.get("valueString")
            if parameter.get("name") == "verifiableCredential" and isinstance(value, str):
                yield from _card_resources(world, value, where)
        return
    if isinstance(kind, str):
        yield Found(doc, where)
        for contained in doc.get("contained") or []:
            yield from _walk(world, contained, where + " contained")


def collect(world: MatrixWorld, response: TestResponse, cell: Cell) -> list[Found]:
    """Every resource in an answer (JSON, NDJSON, card files and shc:/ text)."""
    where = f"{cell.spec['method']} answer"
    mimetype = response.mimetype or ""
    text = response.get_data(as_text=True) if not mimetype.startswith("image/") else ""
    found: list[Found] = []
    if "ndjson" in mimetype:
        for number, line in enumerate(text.splitlines()):
            if line.strip():
                found += _walk(world, json.loads(line), f"NDJSON line {number + 1}")
    elif text.startswith("shc:/"):
        found += _card_resources(world, numeric_to_jws(text.strip()).jws_part, "shc:/ text")
    elif "json" in mimetype and text.strip():
        found += _walk(world, json.loads(text), where)
    discloses = cell.spec.get("discloses")
    if discloses and 200 <= response.status_code < 300:
        pid = render(discloses, world.context(cell.caller, cell.target))
        person = world.person_of.get(pid, f"stranger Patient/{pid}")
        found.append(Found({"resourceType": "Patient", "id": pid}, f"{mimetype} card content",
                           person))
    return found


def _references(node: Any) -> Iterator[tuple[str, str]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "reference" and isinstance(value, str):
                    match = _REFERENCE.match(value)
                    if match:
                        yield match.group(1), match.group(2)
                elif isinstance(value, (dict, list)):
                    stack.append(value)


def persons_in(world: MatrixWorld, found: Found) -> set[str]:
    """Whose records a resource shows (seeded owners, Patient ids, references)."""
    resource = found.resource
    persons = {found.owner} if found.owner else set()
    if resource.get("resourceType") == "Patient" and resource.get("id") and not found.owner:
        pid = str(resource["id"])
        persons.add(world.person_of.get(pid, f"stranger Patient/{pid}"))
    owner = world.owner.get(f"{resource.get('resourceType')}/{resource.get('id')}")
    if owner:
        persons.add(owner)
    for type_name, rid in _references({k: v for k, v in resource.items() if k != "contained"}):
        if type_name == "Patient":
            persons.add(world.person_of.get(rid, f"stranger Patient/{rid}"))
        elif f"{type_name}/{rid}" in world.owner:
            persons.add(world.owner[f"{type_name}/{rid}"])
    return persons


def leak(world: MatrixWorld, caller: str, found: Found) -> str | None:
    """Why this caller may not see this resource (None: it may)."""
    rule = VISIBILITY[CALLERS[caller]["class"]]
    kind = str(found.resource.get("resourceType"))
    if kind in CARRIERS:
        return None
    ref = f"{kind}/{found.resource.get('id')}"
    if rule["types"] != "*" and kind not in rule["types"] or kind in rule.get("except", ()):
        return f"{ref}: a {kind} is not for a {CALLERS[caller]['class']}"
    persons = persons_in(world, found)
    if rule["persons"] == "none" and persons:
        return f"{ref} names {sorted(persons)}"
    if rule["persons"] == "compartments":
        foreign = persons - world.allowed_persons(caller)
        if foreign:
            return f"{ref} is {'/'.join(sorted(foreign))}'s record"
    return None


# -- running -----------------------------------------------------------------------------------

@dataclass
class Failure:
    kind: str
    cell: Cell
    request: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind:<18} {self.cell.caller:<20} {self.request}  [{self.cell.door} " \
               f"target={self.cell.target}] {self.detail}"


@dataclass
class Report:
    tried: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    audited: int = 0
    resources_seen: int = 0
    seconds: Counter[str] = field(default_factory=Counter)  # per door

    def count(self, kind: str) -> int:
        return sum(1 for failure in self.failures if failure.kind == kind)

    def render(self, limit: int = 80) -> str:
        kinds = Counter(failure.kind for failure in self.failures)
        lines = [f"{sum(self.tried.values())} cells tried, {dict(kinds)}"]
        lines += [str(failure) for failure in self.failures[:limit]]
        if len(self.failures) > limit:
            lines.append(f"... and {len(self.failures) - limit} more")
        return "\n".join(lines)


def _landed(world: MatrixWorld, spec: dict[str, Any], ctx: dict[str, str | None],
            before: dict[str, str]) -> list[tuple[str, bool]]:
    """Whether the write is in the database (one answer per check), read as an admin."""
    marker = str(ctx["marker"])
    checks: list[tuple[str, bool]] = []
    for type_name in spec.get("tagged", ()):
        checks.append((f"{type_name} tagged {marker}", world.tagged(type_name, marker)))
    if "changed" in spec:
        ref = render(spec["changed"], ctx)
        response = world.admin_get(f"/{ref}")
        checks.append((f"{ref} changed", marker in response.get_data(as_text=True)))
    if "deleted" in spec:
        ref = render(spec["deleted"], ctx)
        checks.append((f"{ref} deleted", world.admin_get(f"/{ref}").status_code in (404, 410)))
    if "version" in spec:
        ref = render(spec["version"], ctx)
        after = (world.admin_get(f"/{ref}").get_json() or {}).get("meta", {}).get("versionId")
        checks.append((f"{ref} new version", after != before.get(ref)))
    return checks


def _scratch(world: MatrixWorld, cell: Cell) -> str:
    """A fresh record of the target (or of the caller: scratch_for self) for a destructive door."""
    spec = cell.spec
    whose = CALLERS[cell.caller]["own"] if spec.get("scratch_for") == "self" else (
        CALLERS[cell.caller][cell.target] if cell.target in PERSON_TARGETS else None)
    ctx = world.context(cell.caller, "none")
    ctx.update(world.records[whose] if whose else {})
    ctx["marker"] = "scratch-" + uuid.uuid4().hex[:8]
    return world.create(render(BODIES[spec["scratch"]], ctx), whose)


def run_cell(world: MatrixWorld, cell: Cell, report: Report) -> None:
    """Perform one cell and note what went wrong."""
    spec, expected = cell.spec, expectation(cell)
    ctx = world.context(cell.caller, cell.target)
    ctx["marker"] = uuid.uuid4().hex[:12]
    if "scratch" in spec:
        ctx["scratch"] = _scratch(world, cell)
    before: dict[str, str] = {}
    landed_spec = spec.get("landed") or {}
    if "version" in landed_spec:
        ref = render(landed_spec["version"], ctx)
        before[ref] = (world.admin_get(f"/{ref}").get_json() or {}).get("meta", {}).get(
            "versionId")
    url = render(spec["url"], ctx)
    headers = {**world.tokens[CALLERS[cell.caller]["token"]],
               **render(spec.get("headers", {}), ctx)}
    options: dict[str, Any] = {}
    if "form" in spec:
        options["data"] = render(spec["form"], ctx)
    elif "body" in spec:
        body = render(BODIES[spec["body"]] if isinstance(spec["body"], str) else spec["body"],
                      ctx, world)
        options["data"] = json.dumps(body, ensure_ascii=False)
        headers["Content-Type"] = spec.get("content_type", FHIR_JSON)
    request = f"{spec['method']} {url}"
    world.spy.take()
    response = world.web.open(url, method=spec["method"], headers=headers, **options)
    events = [e for e in world.spy.take() if world.agent_matches(cell.caller, e)]
    status = response.status_code
    report.tried[cell.caller] += 1

    def fail(kind: str, detail: str) -> None:
        report.failures.append(Failure(kind, cell, request, f"-> {status}: {detail}"))

    if status >= 500:
        fail("SERVER ERROR", response.get_data(as_text=True)[:300])
    found = collect(world, response, cell)
    report.resources_seen += len(found)
    if spec.get("leak_check", True):
        for item in found:
            reason = leak(world, cell.caller, item)
            if reason:
                fail("LEAK", f"{reason} (in {item.where})")
    ids = {f"{f.resource.get('resourceType')}/{f.resource.get('id')}" for f in found}
    wanted = set(render(spec.get("expect_ids", []), ctx))
    is_write = spec.get("kind", "read" if spec["method"] == "GET" else "write") == "write"
    landed = _landed(world, landed_spec, ctx, before) if is_write and landed_spec else []
    stored = [name for name, done in landed if done]
    if expected.kind == "allow":
        if not 200 <= status < 300 or (expected.status and status != expected.status):
            fail("OUTCOME", f"expected allowed ({expected.status or '2xx'}): "
                            f"{_diagnostics(response)}")
        elif wanted - ids:
            fail("OUTCOME", f"allowed but missing {sorted(wanted - ids)}")
        everything = landed_spec.get("any") and stored or len(stored) == len(landed)
        if landed and not everything and 200 <= status < 300:
            fail("OUTCOME", f"allowed write not stored: {[n for n, d in landed if not d]}")
    elif expected.kind in ("deny", "refuse"):
        if stored:
            fail("UNAUTHORISED WRITE", f"stored: {stored}")
        denied = 400 <= status < 500 and (not expected.status or status == expected.status)
        if expected.kind == "deny" and not denied:
            fail("OUTCOME", f"expected denied ({expected.status or '4xx'})")
        elif expected.kind == "refuse" and not (400 <= status < 500 or (
                200 <= status < 300 and not wanted & ids)):
            fail("OUTCOME", f"expected refused or empty, got {sorted(wanted & ids)}")
    if spec.get("audit", True):
        _check_audit(world, cell, ctx, status, events, fail)
    report.audited += len(events)
    world.spy.kept += [str(e["id"]) for e in events]
    if spec.get("after") == "cancel_export" and status == 202:
        location = response.headers.get("Content-Location", "").removeprefix(BASE_URL)
        world.web.delete(location, headers=world.tokens[CALLERS[cell.caller]["token"]])


def _diagnostics(response: TestResponse) -> str:
    body = response.get_json(silent=True) or {}
    issues = body.get("issue") or [{}]
    return str(issues[0].get("diagnostics", ""))[:160]


def _check_audit(world: MatrixWorld, cell: Cell, ctx: dict[str, str | None], status: int,
                 events: list[dict[str, Any]], fail: Any) -> None:
    """An AuditEvent for this caller, with the request's outcome and naming the resource."""
    spec = cell.spec
    if not events:
        fail("MISSING AUDIT", "no AuditEvent recorded for this personal-data access")
        return
    entries = spec.get("audit_entries")
    if entries and status < 400:  # a transaction's entries of a kind share an AuditEvent
        audited = sum(max(1, sum(1 for entity in e.get("entity") or [] if "what" in entity))
                      for e in events)
        if audited < entries:
            fail("MISSING AUDIT", f"{len(events)} AuditEvents name {audited} of {entries} "
                                  "bundle entries")
        return
    if not any(e.get("outcome") == outcome_code(status) for e in events):
        fail("MISSING AUDIT", f"no AuditEvent with outcome {outcome_code(status)}: "
                              f"{[e.get('outcome') for e in events]}")
    if "audit_ref" in spec:
        ref = render(spec["audit_ref"], ctx)
        named = {(entity.get("what") or {}).get("reference") for e in events
                 for entity in e.get("entity") or []}
        if ref not in named:
            fail("MISSING AUDIT", f"no AuditEvent names {ref}: {sorted(map(str, named))}")


def run(world: MatrixWorld, cells: Iterable[Cell]) -> Report:
    """Perform cells; then check that the AuditEvents seen were stored."""
    report = Report()
    for cell in cells:
        started = time.perf_counter()
        run_cell(world, cell, report)
        report.seconds[cell.door] += time.perf_counter() - started
    missing = unstored_events(world)
    for event_id in missing[:20]:
        report.failures.append(Failure("MISSING AUDIT", Cell("-", "-", "-"), "(store)",
                                       f"AuditEvent {event_id} recorded but never stored"))
    return report


def unstored_events(world: MatrixWorld) -> list[str]:
    """Ids of AuditEvents the spy saw in cells that the database does not hold."""
    world.audit_sink.flush()
    ids, world.spy.kept = world.spy.kept, []
    missing: list[str] = []
    for start in range(0, len(ids), 100):
        chunk = ids[start:start + 100]
        response = world.admin_get(f"/AuditEvent?_id={','.join(chunk)}&_count=100")
        world.spy.take()
        stored = {e["resource"]["id"] for e in response.get_json().get("entry", [])}
        missing += [event_id for event_id in chunk if event_id not in stored]
    return missing


