"""The official R4 examples package: fetched once, verified, unpacked safely, iterated."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from fhir_server.spec import package
from fhir_server.spec.package import (
    PACKAGE_DIR_NAME,
    PACKAGE_INTEGRITY,
    PackageError,
    ensure_examples_package,
    iter_examples,
)

pytestmark = pytest.mark.examples


def test_package_is_unpacked_under_var_cache() -> None:
    # FHIR R4 packages: the npm tarball holds the resources as package/<Type>-<id>.json
    root = ensure_examples_package()
    assert root.name == PACKAGE_DIR_NAME == "hl7.fhir.r4.examples-4.0.1"
    assert root.parent == package.DEFAULT_CACHE_DIR
    assert (root / "package" / "Patient-example.json").is_file()
    assert ensure_examples_package() == root  # idempotent


def test_iter_examples_yields_top_level_resources_of_the_given_types() -> None:
    # FHIR R4 resource.html: each example file is one resource; Bundles are not opened
    root = ensure_examples_package() / "package"
    patients = dict(iter_examples(["Patient"]))
    assert sorted(patients) == sorted(path.name for path in root.glob("Patient-*.json"))
    assert {resource["resourceType"] for resource in patients.values()} == {"Patient"}
    assert patients["Patient-example.json"]["id"] == "example"
    assert len(dict(iter_examples(["Immunization"]))) == 5


def test_unsafe_tarball_members_are_refused(tmp_path: Path) -> None:
    # Python tarfile docs: never extract archives without checking member paths
    tarball = tmp_path / "evil.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        payload = b"{}"
        member = tarfile.TarInfo("../escape.json")
        member.size = len(payload)
        archive.addfile(member, io.BytesIO(payload))
    target = tmp_path / "cache" / PACKAGE_DIR_NAME
    target.parent.mkdir()
    with pytest.raises(PackageError):
        package._unpack(tarball, target)
    assert not (tmp_path / "escape.json").exists()
    assert not target.exists()


def _fake_npm_pack(payload: Path) -> object:
    """A stand-in for `npm pack` that drops `payload` into --pack-destination."""

    def run(command: list[str], **_: object) -> None:
        destination = Path(command[command.index("--pack-destination") + 1])
        shutil.copyfile(payload, destination / "hl7.fhir.r4.examples-4.0.1.tgz")

    return run


def test_a_cached_tarball_with_a_wrong_digest_is_fetched_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # npm docs (package-lock.json): "integrity" is the sha512 Subresource Integrity of the tarball
    real = ensure_examples_package().parent / f"{PACKAGE_DIR_NAME}.tgz"
    (tmp_path / f"{PACKAGE_DIR_NAME}.tgz").write_bytes(b"tampered")
    monkeypatch.setattr(package.subprocess, "run", _fake_npm_pack(real))
    root = ensure_examples_package(tmp_path)
    assert (root / "package" / "Immunization-example.json").is_file()
    assert package._integrity_of(tmp_path / f"{PACKAGE_DIR_NAME}.tgz") == PACKAGE_INTEGRITY


def test_a_download_with_a_wrong_digest_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # npm docs (package-lock.json): a tarball whose integrity differs must not be used
    bogus = tmp_path / "bogus.tgz"
    bogus.write_bytes(b"not the package")
    monkeypatch.setattr(package.subprocess, "run", _fake_npm_pack(bogus))
    with pytest.raises(PackageError, match="integrity"):
        ensure_examples_package(tmp_path / "cache")
    assert not (tmp_path / "cache" / PACKAGE_DIR_NAME).exists()
