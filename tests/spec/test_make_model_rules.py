"""spec/model_rules.json is what make_model_rules writes from the installed fhir.resources models.

The fast validation path (validation/fast_check.py) is only as right as this file: it must
describe the very models the reference path validates with, so a package upgrade that changes
them fails here until the file is regenerated (`python -m fhir_server.spec.make_model_rules`).
"""

from __future__ import annotations

from pathlib import Path

from fhir_server.spec.make_model_rules import OUTPUT, model_rules, write_model_rules
from fhir_server.spec.make_spec import SPEC_DIR


def test_the_committed_file_matches_the_installed_models(tmp_path: Path) -> None:
    written = write_model_rules(tmp_path)
    assert written.read_text("utf-8") == (SPEC_DIR / OUTPUT).read_text("utf-8")


def test_the_rules_read_choices_required_and_primitive_siblings() -> None:
    # formats.html#choice (deceased[x]), patient.html (link.other 1..1), json.html (_gender)
    models = model_rules()["models"]
    patient = models["Patient"]
    assert patient["fields"]["gender"] == ["code", 0]
    assert patient["fields"]["_gender"] == ["FHIRPrimitiveExtension", 0]
    assert patient["fields"]["contained"] == ["Resource", 1]
    assert ["deceasedBoolean", "deceasedDateTime"] in patient["choices"]
    assert patient["resource"] is True
    assert set(models["PatientLink"]["required"]) == {"other", "type"}
    assert models["Extension"]["required"] == ["url"]
