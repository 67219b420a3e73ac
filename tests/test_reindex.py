"""`fhir-server reindex` (issue 15 point 2 / issue 16 point 1): search values of resources
stored before a SearchParameter existed are recomputed, so `Patient?province=` finds them
(R4 search.html: a server indexes what its CapabilityStatement says it searches)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest
from flask import Flask
from pymongo import MongoClient

from fhir_server.deploy_cli import cmd_reindex
from tests.api.helpers import created_id, patient, post

SD = "https://fhir.moh.gov.vn/fhir/StructureDefinition"


def test_reindex_makes_old_resources_searchable(make_app: Callable[..., Flask], mongo_uri: str,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app()
    web = app.test_client()
    body = patient()
    body["address"] = [{"extension": [{"url": f"{SD}/vn-address-province", "valueCoding": {
        "system": "https://fhir.moh.gov.vn/terminology/CodeSystem/vn-province", "code": "01"}}]}]
    patient_id = created_id(post(web, body))
    database = app.extensions["fhir"].settings.database
    with MongoClient(mongo_uri) as client:  # as written before the parameter existed
        client[database]["Patient"].update_one({"_id": patient_id}, {"$set": {"idx": {}}})

    def found() -> list[str]:
        bundle = web.get("/Patient?province=01").get_json()
        return [entry["resource"]["id"] for entry in bundle.get("entry", [])]

    assert patient_id not in found()
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("FHIR_DATABASE", database)
    assert cmd_reindex(argparse.Namespace(types=["Patient"])) == 0
    assert "1 resources reindexed in 1 types" in capsys.readouterr().out
    assert found() == [patient_id]


def test_reindex_refuses_an_unknown_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_reindex(argparse.Namespace(types=["Patients"])) == 2
    assert "unknown resource type Patients" in capsys.readouterr().err
