"""The peer bench's workload and arithmetic (bench/bench_peers.py): the Synthea transaction
bundles, the requests of each operation against a server's base path, the ids read back from
transaction responses, the CPU split per operation from /proc readings, spreads over rounds and
the goal's verdict. Pure logic apart from reading the bundle files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench.http_load import Request

DATA = Path(__file__).resolve().parents[2] / "shared/data/synthea/subset-supported-types"
JSON_HEADERS = {"Accept": "application/fhir+json"}
POST_HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json",
                "Prefer": "return=minimal"}
# operation name -> (label, unit of its throughput)
OPERATIONS = {
    "ingest": ("transaction ingest", "res/s"),
    "read": ("read Patient by id", "req/s"),
    "immunizations": ("Immunization?patient=", "req/s"),
    "family-birthdate": ("Patient?family&birthdate", "req/s"),
}
GOAL = 0.5  # our API CPU per operation <= GOAL x the peer's whole-server CPU per operation


@dataclass(frozen=True)
class Workload:
    """The bundles sent (their bytes), how many resources they hold, and the (family,
    birthDate) of each bundle's Patient, in bundle order."""

    bodies: tuple[bytes, ...]
    resources: int
    people: tuple[tuple[str, str], ...]


def load_workload(folder: Path = DATA, limit: int | None = None) -> Workload:
    """The first `limit` Synthea bundles of `folder` (sorted by name; all when None)."""
    paths = sorted(folder.glob("*.json"))[:limit]
    if not paths:
        raise FileNotFoundError(f"no Synthea bundles under {folder}")
    bodies = tuple(path.read_bytes() for path in paths)
    bundles = [json.loads(body) for body in bodies]
    return Workload(bodies, sum(len(b.get("entry", [])) for b in bundles),
                    tuple(person(bundle) for bundle in bundles))


def person(bundle: dict[str, Any]) -> tuple[str, str]:
    """(family name, birthDate) of a bundle's first Patient."""
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Patient":
            return resource["name"][0]["family"], resource["birthDate"]
    raise ValueError("bundle without a Patient")


def location_id(location: str, type_name: str) -> str | None:
    """The id in a Location (`Type/id/_history/v`, relative or absolute) when of `type_name`."""
    parts = [part for part in urlsplit(location).path.split("/") if part]
    for position in range(len(parts) - 1):
        if parts[position] == type_name and parts[position + 1] != "_history":
            return parts[position + 1]
    return None


def patient_id(response: dict[str, Any]) -> str:
    """The id given to the Patient of a transaction, from its transaction-response Bundle."""
    for entry in response.get("entry", []):
        found = location_id(entry.get("response", {}).get("location", ""), "Patient")
        if found:
            return found
    raise ValueError(f"no Patient location in the {response.get('type')} response")


def request_maker(operation: str, prefix: str, workload: Workload, ids: list[str]) -> Request:
    """make_request(n) for an operation on a server whose FHIR base path is `prefix` ('' or
    '/fhir'); `ids` are the Patient ids of the round's bundles, in bundle order."""
    people = workload.people
    if operation == "ingest":
        return lambda n: ("POST", prefix or "/", workload.bodies[n % len(workload.bodies)],
                          POST_HEADERS)
    if operation == "read":
        return lambda n: ("GET", f"{prefix}/Patient/{ids[n % len(ids)]}", None, JSON_HEADERS)
    if operation == "immunizations":
        return lambda n: ("GET", f"{prefix}/Immunization?patient=Patient/{ids[n % len(ids)]}",
                          None, JSON_HEADERS)
    if operation == "family-birthdate":
        return lambda n: ("GET", f"{prefix}/Patient?family={quote(people[n % len(people)][0])}"
                          f"&birthdate={people[n % len(people)][1]}", None, JSON_HEADERS)
    raise ValueError(f"unknown operation {operation}")


def cpu_per_operation(before: float, after: float, operations: int) -> float:
    """CPU µs per operation from two /proc readings in seconds."""
    if operations <= 0:
        raise ValueError("no operations")
    return max(0.0, after - before) * 1e6 / operations


@dataclass(frozen=True)
class Spread:
    """min / median / max of a figure over the rounds."""

    low: float
    median: float
    high: float

    def text(self, digits: int = 0) -> str:
        """`low/median/high` with `digits` decimals."""
        return "/".join(f"{value:,.{digits}f}" for value in (self.low, self.median, self.high))


def spread(values: list[float]) -> Spread:
    """The spread of a few measurements (the lower median for an even count)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return Spread(ordered[0], ordered[(len(ordered) - 1) // 2], ordered[-1])


def ratio(ours: float, theirs: float) -> float | None:
    """ours / theirs (None when theirs is 0)."""
    return ours / theirs if theirs else None


def verdict(api_us: float, peer_us: float, goal: float = GOAL) -> tuple[float | None, bool]:
    """(our API CPU / the peer's whole-server CPU per operation, whether it is <= goal)."""
    share = ratio(api_us, peer_us)
    return share, share is not None and share <= goal


@dataclass(frozen=True)
class Summary:
    """One operation over the rounds: throughputs of both servers, our API and database CPU
    and the peer's whole-server CPU per operation, and the goal's verdict (on medians)."""

    rate: Spread
    peer_rate: Spread
    api_us: Spread
    database_us: Spread
    peer_us: Spread

    @property
    def speed(self) -> float | None:
        """Our median throughput / the peer's."""
        return ratio(self.rate.median, self.peer_rate.median)

    @property
    def share(self) -> float | None:
        """Our median API CPU per operation / the peer's whole-server CPU per operation."""
        return verdict(self.api_us.median, self.peer_us.median)[0]

    @property
    def holds(self) -> bool:
        """True when our API CPU per operation is at most GOAL x the peer's."""
        return verdict(self.api_us.median, self.peer_us.median)[1]


def summarise(ours: list[tuple[float, float, float]], peer: list[tuple[float, float, float]]
              ) -> Summary:
    """The summary of per-round (throughput, API µs, database µs) measurements of both
    servers (the peer's API µs is its whole server: it has no separate database process)."""
    return Summary(spread([r[0] for r in ours]), spread([r[0] for r in peer]),
                   spread([r[1] for r in ours]), spread([r[2] for r in ours]),
                   spread([r[1] + r[2] for r in peer]))
