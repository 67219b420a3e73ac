"""The settings file of `fhir-server --settings FILE` (issue 16 point 1: settings from the
environment or a file only): NAME=VALUE lines, the environment wins, unknown names refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fhir_server.settings_file import (
    FILE_VARIABLE,
    KNOWN,
    SettingsFileError,
    apply_settings_file,
    parse_settings,
    readable_by_others,
)

PACKAGE = Path(__file__).resolve().parent.parent / "fhir_server"


def test_parse_comments_quotes_and_export() -> None:
    text = ("# production\n\nFHIR_BASE_URL=https://fhir.example.vn\n"
            "export FHIR_SMS_API_KEY=\"a b=c\"\nFHIR_CORS_ORIGINS = 'https://app.vn'\n"
            "FHIR_METRICS_TOKEN=\n")
    assert parse_settings(text) == {"FHIR_BASE_URL": "https://fhir.example.vn",
                                    "FHIR_SMS_API_KEY": "a b=c",
                                    "FHIR_CORS_ORIGINS": "https://app.vn",
                                    "FHIR_METRICS_TOKEN": ""}


@pytest.mark.parametrize(("line", "message"), [
    ("FHIR_AUTH_REQIURED=0", "unknown setting FHIR_AUTH_REQIURED (did you mean "
                             "FHIR_AUTH_REQUIRED?)"),
    ("just words", "expected NAME=VALUE"),
    ("lower=1", "expected NAME=VALUE"),
])
def test_bad_lines_name_file_and_line(line: str, message: str) -> None:
    with pytest.raises(SettingsFileError) as caught:
        parse_settings(f"# first\n{line}\n", "/etc/fhir.env")
    assert str(caught.value).startswith("/etc/fhir.env:2: ")
    assert message in str(caught.value)


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fhir.env"
    path.write_text("FHIR_DATABASE=from_file\nFHIR_BASE_URL=https://file.vn\n")
    environ = {"FHIR_DATABASE": "from_env"}
    assert apply_settings_file(str(path), environ)["FHIR_DATABASE"] == "from_file"
    assert environ["FHIR_DATABASE"] == "from_env"
    assert environ["FHIR_BASE_URL"] == "https://file.vn"
    assert environ[FILE_VARIABLE] == str(path.resolve())


def test_file_named_by_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "fhir.env"
    path.write_text("FHIR_AUDIT=all\n")
    environ = {FILE_VARIABLE: str(path)}
    apply_settings_file(None, environ)
    assert environ["FHIR_AUDIT"] == "all"
    assert apply_settings_file(None, {}) == {}  # no file: nothing read


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsFileError, match=r"nope\.env: FileNotFoundError"):
        apply_settings_file(str(tmp_path / "nope.env"), {})


def test_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "fhir.env"
    path.write_text("FHIR_AUDIT=all\n")
    path.chmod(0o644)
    assert readable_by_others(str(path), {})
    path.chmod(0o600)
    assert not readable_by_others(str(path), {})


def test_every_variable_the_server_reads_is_known() -> None:
    """A name read anywhere in the package is accepted in the file (none drifts out)."""
    read = set()
    for source in PACKAGE.rglob("*.py"):
        read |= set(re.findall(r"""["']((?:FHIR|MONGODB|PROMETHEUS)_[A-Z_]+)["']""",
                               source.read_text("utf-8")))
    read -= {"FHIR_STARTED", FILE_VARIABLE}  # a Flask config key; the file's own name
    assert read - KNOWN == set()
