"""Notices in bulk (scheduling/notice_batch.py): one transaction per chunk with the same keys as
one by one, the RelatedPerson's phone for a Patient without one, and a chunk that fails retried
notice by notice so that one bad record holds back no other (issue 14 point 10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask

from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
from fhir_server.errors import FhirError, Unprocessable
from fhir_server.interactions import crud
from fhir_server.notify.gateways import FileSink
from fhir_server.scheduling import notice_batch
from fhir_server.scheduling.notice_batch import ChunkResult, send_chunk
from fhir_server.scheduling.notices import NOTICE_SYSTEM, Notice, record

NOW = datetime(2021, 8, 14, 12, 0, tzinfo=UTC)


def _people(svc: object, count: int) -> list[str]:
    """Patients with phones, and one child whose phone is the parent's (RelatedPerson)."""
    ids = [crud.create(svc, "Patient", {  # type: ignore[arg-type]
        "resourceType": "Patient", "name": [{"text": f"Người {n}"}],
        "telecom": [{"system": "phone", "value": f"+8498700{n:04d}"}]}).version.id
        for n in range(count)]
    child = crud.create(svc, "Patient", {  # type: ignore[arg-type]
        "resourceType": "Patient", "name": [{"text": "Bé"}]}).version.id
    crud.create(svc, "RelatedPerson", {  # type: ignore[arg-type]
        "resourceType": "RelatedPerson", "patient": {"reference": f"Patient/{child}"},
        "telecom": [{"system": "phone", "value": "+84987009999"}]})
    return [*ids, child]


def _notices(ids: list[str]) -> list[Notice]:
    return [Notice("reminder", pid, f"Appointment/a{n}", f"reminder/a{n}/2021-08-15",
                   {"name": f"Người {n}"}) for n, pid in enumerate(ids)]


def _stored_keys(svc: object) -> list[str]:
    criteria = svc.search.criteria_for("Communication", [  # type: ignore[attr-defined]
        ("identifier", f"{NOTICE_SYSTEM}|")])
    return sorted(v.resource["identifier"][0]["value"]
                  for v in svc.store.find("Communication", criteria))  # type: ignore[attr-defined]


def test_chunk_records_and_texts_each_key_once(make_app: Callable[..., Flask]) -> None:
    app = make_app(auth_required=True)
    svc = app.extensions["fhir"].internal()
    with acting_as(INTERNAL_PRINCIPAL):
        ids = _people(svc, 120)  # more than one search takes in a go (100 values)
        notices = _notices(ids)
        svc.store.transact(lambda: record(svc, notices[5], NOW))  # an earlier run's notice
        result = ChunkResult()
        send_chunk(svc, notices, NOW, result)
        assert (result.recorded, result.texted, result.failed) == (120, 121, 0)
        again = ChunkResult()
        send_chunk(svc, notices, NOW, again)
        assert (again.recorded, again.texted, again.failed) == (0, 0, 0)
        assert _stored_keys(svc) == sorted(n.key for n in notices)
    sink = FileSink(app.extensions["fhir"].settings.sms_gateway.split(":", 1)[1])
    assert len(sink.messages("+84987009999")) == 1  # the child's text went to the parent
    assert len(sink.messages()) == 121


def test_failed_chunk_goes_one_by_one(make_app: Callable[..., Flask],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(auth_required=True)
    svc = app.extensions["fhir"].internal()
    with acting_as(INTERNAL_PRINCIPAL):
        notices = _notices(_people(svc, 3))
        bad = notices[1].key

        def refuse_chunk(*_: object) -> int:
            raise Unprocessable("the chunk is refused")

        def record_unless_bad(svc_: object, notice: Notice, now: datetime) -> bool:
            if notice.key == bad:
                raise FhirError("this one is refused", status=422)
            return record(svc_, notice, now)  # type: ignore[arg-type]

        monkeypatch.setattr(notice_batch, "_record_all", refuse_chunk)
        monkeypatch.setattr(notice_batch, "record", record_unless_bad)
        result = ChunkResult()
        send_chunk(svc, notices, NOW, result)
        assert (result.recorded, result.texted, result.failed) == (3, 3, 1)
        assert bad not in _stored_keys(svc) and len(_stored_keys(svc)) == 3

