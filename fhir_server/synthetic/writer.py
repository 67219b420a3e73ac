"""`fhir-server seed --people N` (issue 15 point 6): write a synthetic campaign through the
write path: each resource validated (`svc.checked`: profiles, identifier rules) and stored with
`Repository.create_many` per type and chunk, acting as the server (the internal principal, as
`fhir-server import`): write rules run; the after-write effects run too but text nobody (the
outreach effects act only on site/system writes), so a seed never queues SMS to its made-up
numbers. Reproducible with a seed number; a later run numbers its people after those stored.
"""

from __future__ import annotations

import contextvars
import random
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tqdm import tqdm

from fhir_server.analytics.rebuild import rebuild
from fhir_server.analytics.updates import deferred_rollup, suspended_rollup
from fhir_server.interactions.context import Services
from fhir_server.synthetic.doses import Campaign, Site, campaign
from fhir_server.synthetic.people import MAX_PEOPLE, SYNTHETIC_TAG, geography, person


@dataclass
class SeedOptions:
    """What to generate."""

    people: int
    seed_number: int = 2021
    days: int = 365
    sites: int | None = None
    chunk: int = 200
    progress: bool = True
    reaction_rate: float = 0.03
    today: date = field(default_factory=date.today)
    rebuild: bool = False  # no rollup per chunk; `analytics rebuild` once at the end
    writers: int = 2  # chunks written at once: one validates while another waits on the store


@dataclass
class SeedReport:
    """What a run created, and how fast."""

    created: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    people: int = 0
    rebuilt: str = ""  # the analytics rebuild's summary (SeedOptions.rebuild)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self) -> str:
        """One line: counts by type and the rates."""
        total = sum(self.created.values())
        kinds = ", ".join(f"{t} {n}" for t, n in sorted(self.created.items()))
        rate = self.seconds or 1e-9
        return (f"synthetic campaign: {self.people} people, {total} resources ({kinds}) in "
                f"{self.seconds:.1f} s = {self.people / rate:.1f} people/s, "
                f"{total / rate:.0f} resources/s" + (f"; {self.rebuilt}" if self.rebuilt else ""))


def stored_people(svc: Services) -> int:
    """How many synthetic Patients are stored already (the next run numbers after them)."""
    criteria = svc.search.criteria_for(
        "Patient", [("_tag", f"{SYNTHETIC_TAG['system']}|{SYNTHETIC_TAG['code']}")])
    return svc.store.count("Patient", criteria)


def _write(svc: Services, report: SeedReport, type_name: str,
           resources: list[dict[str, Any]]) -> list[str]:
    checked = [svc.checked(r, type_name)[0] for r in resources]
    stored = svc.store.create_many(type_name, checked)
    with report.lock:  # chunks are written by several threads
        report.created[type_name] += len(stored)
    return [version.id for version in stored]


def make_sites(svc: Services, report: SeedReport, count: int, rng: random.Random,
               run: int) -> list[Site]:
    """Sites spread over provinces by weight: Organization, Location and 2 vaccinators each."""
    geo = geography()
    chosen = [rng.choices(geo.provinces, geo.weights)[0] for _ in range(count)]
    names = [f"Trạm Y tế điểm tiêm {run}-{n + 1} ({p[1]})" for n, p in enumerate(chosen)]
    organizations = _write(svc, report, "Organization", [
        {"resourceType": "Organization", "meta": {"tag": [SYNTHETIC_TAG]}, "active": True,
         "identifier": [{"system": "urn:vn:moh:facility", "value": f"SYN-{run}-{n + 1}"}],
         "name": name} for n, name in enumerate(names)])
    locations = _write(svc, report, "Location", [
        {"resourceType": "Location", "meta": {"tag": [SYNTHETIC_TAG]}, "status": "active",
         "name": name, "address": {"city": p[1], "country": "VN"},
         "managingOrganization": {"reference": f"Organization/{org}"}}
        for name, p, org in zip(names, chosen, organizations, strict=True)])
    vaccinators = _write(svc, report, "Practitioner", [
        {"resourceType": "Practitioner", "meta": {"tag": [SYNTHETIC_TAG]}, "active": True,
         "name": [{"text": f"Điều dưỡng {n + 1}"}]} for n in range(2 * count)])
    return [Site(loc, tuple(vaccinators[2 * n:2 * n + 2]), p[0])
            for n, (loc, p) in enumerate(zip(locations, chosen, strict=True))]


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: refs.get(v, v) if k == "reference" and isinstance(v, str) else
                _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


def _chunk(svc: Services, report: SeedReport, people: list[Any],
           plans: list[Campaign]) -> None:
    with deferred_rollup():  # the analytics facts of the chunk's people: one change at the end
        _chunk_resources(svc, report, people, plans)


def _chunk_resources(svc: Services, report: SeedReport, people: list[Any],
                     plans: list[Campaign]) -> None:
    ids = _write(svc, report, "Patient", [p.patient for p in people])
    for plan, pid in zip(plans, ids, strict=True):
        plan.registration["identifier"][0]["value"] = f"covid19-2021/{pid}"
    refs = [{"#person": f"Patient/{pid}"} for pid in ids]
    _write(svc, report, "Appointment", [_resolve(plan.registration, r)
                                        for plan, r in zip(plans, refs, strict=True)])
    doses = [(n, _resolve(d, refs[n])) for n, plan in enumerate(plans) for d in plan.doses]
    dose_ids = _write(svc, report, "Immunization", [d for _, d in doses])
    first = 0
    reactions = []
    for n, plan in enumerate(plans):
        for index, event in plan.reactions:
            reactions.append(_resolve(event, {**refs[n],
                                              "#dose": f"Immunization/{dose_ids[first + index]}"}))
        first += len(plan.doses)
    if reactions:
        _write(svc, report, "AdverseEvent", reactions)


def seed_campaign(svc: Services, options: SeedOptions) -> SeedReport:
    """Generate and write the campaign of `options.people` new people."""
    offset = stored_people(svc)
    if offset + options.people > MAX_PEOPLE:
        raise ValueError(f"at most {MAX_PEOPLE} synthetic people ({offset} stored)")
    rng = random.Random(options.seed_number)
    report = SeedReport(people=options.people)
    started = time.perf_counter()
    count = options.sites or max(5, min(options.people // 250, 2000))
    sites = make_sites(svc, report, count, rng, offset)
    by_province: dict[str, list[Site]] = {}
    for site in sites:
        by_province.setdefault(site.province, []).append(site)
    start = options.today - timedelta(days=options.days)
    pending: deque[tuple[Future[None], int]] = deque()
    with tqdm(total=options.people, unit="person", desc="seed", dynamic_ncols=True,
              disable=not options.progress) as bar, \
            (suspended_rollup() if options.rebuild else nullcontext()), \
            ThreadPoolExecutor(max(1, options.writers), "seed-writer") as pool:
        writers = [svc.bind(svc.caller) for _ in range(max(1, options.writers))]

        def settle_oldest() -> None:
            """Wait for the oldest chunk in flight (its error, if any, stops the run)."""
            future, size = pending.popleft()
            future.result()
            bar.update(size)
            elapsed = time.perf_counter() - started
            bar.set_postfix_str(f"{sum(report.created.values()) / elapsed:.0f} res/s",
                                refresh=False)

        for number, first in enumerate(range(0, options.people, options.chunk)):
            size = min(options.chunk, options.people - first)
            # generated here, in order, so a seed number always gives the same campaign
            people = [person(rng, offset + first + k, options.today) for k in range(size)]
            plans = [campaign(p, rng.choice(by_province.get(p.province, sites)), start,
                              options.today, rng, options.reaction_rate) for p in people]
            writer = writers[number % len(writers)]
            # each chunk in a copy of this context: the rollup switches are context variables
            pending.append((pool.submit(contextvars.copy_context().run, _chunk, writer,
                                        report, people, plans), size))
            if len(pending) >= len(writers):
                settle_oldest()
        while pending:
            settle_oldest()
    if options.rebuild:
        report.rebuilt = rebuild(svc).summary()
    report.seconds = time.perf_counter() - started
    return report
