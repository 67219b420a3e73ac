"""Load the demo data set (a few Vietnamese patients, doses, a reaction, an appointment)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from fhir_server.errors import NotFound
from fhir_server.interactions import crud
from fhir_server.interactions.context import Services
from fhir_server.vaccination.outreach import announce_dose, update_recommendation


def demo_resources() -> list[dict[str, Any]]:
    """The demo resources, in dependency order."""
    text = resources.files("fhir_server.demo").joinpath("demo.json").read_text("utf-8")
    return list(json.loads(text))


DEMO_LOGINS = (
    ("citizen", "0912345678", "DemoCitizen2021", "demo-nguyen-van-an (+ family: his son)"),
    ("admin", "0900000001", "DemoAdmin2021", "administrator"),
    ("practitioner", "0900000002", "DemoNurse2021", "vaccination site nurse"),
    ("analyst", "0900000003", "DemoAnalyst2021", "health-authority analyst"),
)


def seed_accounts(svc: Services) -> list[str]:
    """Demo logins (demo data only: never seed a production database)."""
    service = svc.components.get("auth")
    if service is None:
        return []
    lines = []
    for role, phone, password, who in DEMO_LOGINS:
        lines.append(f"{role:12} {phone} / {password}  ({who})")
        if service.accounts.find_by_phone(phone):
            continue
        if role == "citizen":
            service.accounts.create_citizen(phone, "Nguyễn Văn An", password,
                                            "demo-nguyen-van-an", ["demo-nguyen-minh-khoi"])
        else:
            service.accounts.create_staff(phone, f"Demo {role}", password, [role],
                                          "demo-nurse-ha" if role == "practitioner" else None)
    return lines


WAITING_SMS = ("demo-tran-thi-lan", "demo-lan-dose-1")  # vaccinated, no app yet: her SMS waits


def seed(svc: Services) -> int:
    """Create the demo resources that do not exist yet; returns how many were created."""
    created = 0
    for resource in demo_resources():
        try:
            crud.read(svc, resource["resourceType"], resource["id"])
        except NotFound:
            crud.update(svc, resource["resourceType"], resource["id"], resource)
            created += 1
    patient, dose = WAITING_SMS  # the site's texts for her, as if the nurse had just typed it
    recommendation = update_recommendation(svc, patient)
    announce_dose(svc, dose, crud.read(svc, "Immunization", dose).resource or {}, recommendation)
    return created
