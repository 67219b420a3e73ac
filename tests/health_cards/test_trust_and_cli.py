"""Trusted-issuer directories (VCI style, local files) and the keys|verify|card CLI."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from fhir_server.health_cards import KeySetError, KeyStore, TrustedIssuers, to_json, verify
from fhir_server.health_cards.cli import cli_card, cli_keys, cli_verify
from fhir_server.health_cards.result import NOT_TRUSTED, VALID
from tests.health_cards.conftest import (
    DEVTOOLS,
    ISS,
    NOW,
    SPEC,
    SPEC_CRL,
    SPEC_ISS,
    make_dose,
    make_patient,
    read,
    requires_vectors,
)


def _directory(tmp_path: Path) -> Path:
    """A VCI-style directory file whose issuer keys and CRL are local files."""
    shutil.copy(SPEC / "issuer-jwks.json", tmp_path / "spec-jwks.json")
    shutil.copy(SPEC_CRL, tmp_path / "spec-crl.json")
    doc = {"participating_issuers": [{"iss": SPEC_ISS, "name": "SMART example issuer",
                                      "jwks_file": "spec-jwks.json",
                                      "crl_files": ["spec-crl.json"]}]}
    path = tmp_path / "issuers.json"
    path.write_bytes(to_json(doc))
    return path


@requires_vectors
def test_directory_with_local_jwks_and_crl(tmp_path: Path) -> None:
    """Issue: trusted issuers from a VCI-directory JSON plus locally cached JWKS (no network)."""
    trusted = TrustedIssuers.load(_directory(tmp_path))
    assert SPEC_ISS in trusted
    issuer = trusted.get(SPEC_ISS)
    assert issuer is not None and issuer.name == "SMART example issuer"
    assert issuer.keyset is not None and len(issuer.keyset.keys) == 2 and issuer.crls
    result = verify(read(SPEC / "example-00-d-jws.txt"), trusted, now=NOW)
    assert result.verdict == VALID and result.issuer_name == "SMART example issuer"


@requires_vectors
def test_vci_snapshot_shape_with_inline_keys() -> None:
    """The VCI snapshot shape ({"issuer": {...}, "keys": [...], "crls": [...]}) is accepted."""
    from fhir_server.health_cards import from_json

    doc = {"participating_issuers": [{
        "issuer": {"iss": SPEC_ISS, "name": "inline"},
        "keys": from_json(read(SPEC / "issuer-jwks.json"))["keys"],
        "crls": [from_json(read(SPEC_CRL))]}]}
    trusted = TrustedIssuers.from_directory(doc)
    assert verify(read(SPEC / "example-01-d-jws.txt"), trusted, now=NOW).verdict == VALID


@requires_vectors
def test_directory_without_keys_for_an_issuer_is_not_trusted() -> None:
    """The dev-tools test-issuers.json lists the issuer but carries no keys: not trusted."""
    trusted = TrustedIssuers.load(DEVTOOLS / "test-issuers.json")
    result = verify(read(SPEC / "example-00-d-jws.txt"), trusted, now=NOW)
    assert result.verdict == NOT_TRUSTED
    assert any("no JWK set is configured" in r for r in result.reasons)


def test_broken_directory_files_fail_fast(tmp_path: Path) -> None:
    """A missing key file or a directory without participating_issuers is a config error."""
    (tmp_path / "a.json").write_bytes(to_json({"participating_issuers": [
        {"iss": ISS, "jwks_file": "missing.json"}]}))
    with pytest.raises(KeySetError, match="cannot read"):
        TrustedIssuers.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_bytes(b"{}")
    with pytest.raises(KeySetError, match="participating_issuers"):
        TrustedIssuers.load(tmp_path / "b.json")


def test_cli_keys_lifecycle(tmp_path: Path) -> None:
    """`fhir-server keys create|list|jwks|rotate|revoke|crl` print no private material."""
    key_dir = str(tmp_path / "keys")
    out = io.StringIO()
    assert cli_keys(["--key-dir", key_dir, "create"], out=out) == 0
    assert cli_keys(["--key-dir", key_dir, "create"], out=out) == 2  # already exists
    assert cli_keys(["--key-dir", key_dir, "rotate"], out=out) == 0
    assert cli_keys(["--key-dir", key_dir, "list"], out=out) == 0
    assert cli_keys(["--key-dir", key_dir, "jwks"], out=out) == 0
    assert cli_keys(["--key-dir", key_dir, "revoke", "--patient", "vn-1"], out=out) == 0
    kid = KeyStore(key_dir).active_signing_key().kid
    assert cli_keys(["--key-dir", key_dir, "crl", kid], out=out) == 0
    text = out.getvalue()
    assert "retired" in text and "active" in text and '"ctr":2' in text
    for path in Path(key_dir).glob("*.private.json"):
        assert path.read_text().split('"d":"')[1].split('"')[0] not in text
    assert cli_keys(["list"], out=io.StringIO()) == 2  # no key directory configured
    assert cli_keys(["--key-dir", key_dir, "bogus"], out=io.StringIO()) == 2


def test_cli_card_then_verify(tmp_path: Path) -> None:
    """`fhir-server card` writes the file, PNG, SVG and numeric text; `verify` accepts them."""
    key_dir, out_dir = str(tmp_path / "keys"), tmp_path / "cards"
    cli_keys(["--key-dir", key_dir, "create"], out=io.StringIO())
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": make_patient()}, {"resource": make_dose(1)},
                        {"resource": make_dose(2, date="2021-09-01")}]}
    (tmp_path / "bundle.json").write_bytes(to_json(bundle))
    out = io.StringIO()
    assert cli_card(["--bundle", str(tmp_path / "bundle.json"), "--out", str(out_dir),
                     "--iss", ISS, "--key-dir", key_dir], out=out) == 0
    assert "2 dose(s)" in out.getvalue()
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["patient-vn-0001-card-1.png", "patient-vn-0001-card-1.svg",
                     "patient-vn-0001-card-1.txt", "patient-vn-0001.smart-health-card"]
    for name in ("patient-vn-0001-card-1.png", "patient-vn-0001.smart-health-card",
                 "patient-vn-0001-card-1.txt"):
        shown = io.StringIO()
        code = cli_verify([str(out_dir / name), "--iss", ISS, "--key-dir", key_dir], out=shown)
        assert code == 0, shown.getvalue()
        assert "verdict: VALID" in shown.getvalue() and "Nguyễn" in shown.getvalue()
    shown = io.StringIO()
    assert cli_verify([str(out_dir / "patient-vn-0001-card-1.png"), "--json"], out=shown) == 1
    assert '"verdict":"not-trusted"' in shown.getvalue()


def test_cli_verify_garbage_and_usage(tmp_path: Path) -> None:
    """Garbage gives exit 1 with a reason; a broken trust file is a configuration error (2)."""
    out = io.StringIO()
    assert cli_verify(["not a card"], out=out) == 1 and "reason:" in out.getvalue()
    (tmp_path / "t.json").write_bytes(b"nope")
    assert cli_verify(["x", "--trusted", str(tmp_path / "t.json")], out=io.StringIO()) == 2
    assert cli_card(["--bundle", "x"], out=io.StringIO()) == 2
