"""Command-line entry points for `fhir-server keys|verify|card` (wired by fhir_server/cli.py).

Each function takes its own argv (the words after the sub-command), prints to `out` and returns
the process exit code: 0 success / valid card, 1 card not valid, 2 usage or configuration error.
Defaults come from the environment: FHIR_SERVER_SHC_KEY_DIR, FHIR_SERVER_SHC_ISSUER,
FHIR_SERVER_SHC_TRUSTED. No private key material is ever printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from fhir_server.errors import FhirError
from fhir_server.health_cards.encoding import from_json, to_json
from fhir_server.health_cards.inputs import is_image, verify, verify_images, verify_qr_texts
from fhir_server.health_cards.issue import health_card_file, issue_cards
from fhir_server.health_cards.keys import KeyStore
from fhir_server.health_cards.minimise import displays_from
from fhir_server.health_cards.result import VerificationResult
from fhir_server.health_cards.trust import TrustedIssuers
from fhir_server.health_cards.verify import VerifyOptions


def _env(name: str) -> str | None:
    """A non-empty environment variable or None."""
    return os.environ.get(name) or None


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argparse parser that reports usage errors as exceptions, not sys.exit."""
    return argparse.ArgumentParser(prog=prog, description=description, exit_on_error=False)


def cli_keys(argv: list[str], *, out: TextIO = sys.stdout) -> int:
    """`fhir-server keys create|rotate|list|jwks|crl KID|revoke|remove KID [--key-dir DIR]`."""
    parser = _parser("fhir-server keys", "Manage the SMART Health Card issuer keys.")
    parser.add_argument("--key-dir", default=_env("FHIR_SERVER_SHC_KEY_DIR"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create", help="create the first signing key")
    sub.add_parser("rotate", help="new signing key; the old one is retired but still published")
    sub.add_parser("list", help="list keys (kid, status, dates, CRL version)")
    sub.add_parser("jwks", help="print the public JWK set (/.well-known/jwks.json)")
    crl = sub.add_parser("crl", help="print a key's revocation list")
    crl.add_argument("kid")
    revoke = sub.add_parser("revoke", help="revoke the cards of a patient (or one rid)")
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", help="patient logical id (the per-patient rid of cards "
                                       "signed without a per-card rid)")
    who.add_argument("--rid", help="a revocation id (vc.rid of the card; the server gives "
                                   "each card its own)")
    revoke.add_argument("--kid", help="only under this key (default: every key)")
    revoke.add_argument("--before", type=int, help="only cards issued before this epoch second")
    remove = sub.add_parser("remove", help="withdraw a compromised key from the JWK set")
    remove.add_argument("kid")
    try:
        args = parser.parse_args(argv)
    except (argparse.ArgumentError, SystemExit) as exc:
        print(f"usage error: {exc}", file=out)
        return 2
    if not args.key_dir:
        print("no key directory: pass --key-dir or set FHIR_SERVER_SHC_KEY_DIR", file=out)
        return 2
    store = KeyStore(args.key_dir)
    try:
        return _keys_command(store, args, out)
    except FhirError as exc:
        print(f"error: {exc.message}", file=out)
        return 2


def _keys_command(store: KeyStore, args: argparse.Namespace, out: TextIO) -> int:
    """Run one keys sub-command."""
    if args.command in ("create", "rotate"):
        info = store.create() if args.command == "create" else store.rotate()
        print(f"active key {info.kid} created", file=out)
    elif args.command == "list":
        for info in store.list():
            retired = time.strftime("%Y-%m-%d", time.gmtime(info.retired)) if info.retired else ""
            created = time.strftime("%Y-%m-%d", time.gmtime(info.created))
            print(f"{info.kid}  {info.status:8}  created {created}  "
                  f"{'retired ' + retired if retired else '':19}  crlVersion {info.crl_version}",
                  file=out)
    elif args.command == "jwks":
        print(to_json(store.public_jwks()).decode(), file=out)
    elif args.command == "crl":
        print(to_json(store.crl(args.kid)).decode(), file=out)
    elif args.command == "revoke":
        rids = store.revoke(args.patient, rid=args.rid, kid=args.kid, before=args.before)
        print(f"revoked: {', '.join(rids)}", file=out)
    elif args.command == "remove":
        store.remove(args.kid)
        print(f"key {args.kid} removed from the JWK set", file=out)
    return 0


def load_trusted(trusted_file: str | None, iss: str | None = None,
                 key_dir: str | None = None) -> TrustedIssuers:
    """Trusted issuers from a directory file, plus our own issuer's key store if given."""
    trusted = TrustedIssuers.load(trusted_file) if trusted_file else TrustedIssuers()
    if iss and key_dir:
        trusted.add_keystore(iss, "this server", KeyStore(key_dir))
    return trusted


def _read_input(item: str) -> tuple[bytes | str, str | None]:
    """(content, filename) of a command-line input: a file path, or the literal text."""
    path = Path(item)
    if len(item) < 4096 and path.is_file():
        return path.read_bytes(), path.name
    return item, None


def cli_verify(argv: list[str], *, out: TextIO = sys.stdout) -> int:
    """`fhir-server verify FILE|TEXT|IMAGE... [--trusted F] [--now EPOCH] [--json] [--lenient]`."""
    parser = _parser("fhir-server verify", "Verify a SMART Health Card.")
    parser.add_argument("inputs", nargs="+", help="QR image(s), shc:/ text, JWS or card file; "
                                                  "several = chunks of one card")
    parser.add_argument("--trusted", default=_env("FHIR_SERVER_SHC_TRUSTED"))
    parser.add_argument("--iss", default=_env("FHIR_SERVER_SHC_ISSUER"))
    parser.add_argument("--key-dir", default=_env("FHIR_SERVER_SHC_KEY_DIR"))
    parser.add_argument("--now", type=float, help="verify as of this epoch second")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--lenient", action="store_true",
                        help="conformance issues are warnings instead of reasons")
    try:
        args = parser.parse_args(argv)
        trusted = load_trusted(args.trusted, args.iss, args.key_dir)
    except (argparse.ArgumentError, SystemExit) as exc:
        print(f"usage error: {exc}", file=out)
        return 2
    except FhirError as exc:
        print(f"configuration error: {exc.message}", file=out)
        return 2
    options = VerifyOptions(strict=not args.lenient)
    items = [_read_input(i) for i in args.inputs]
    result = _verify_items(items, trusted, args.now, options)
    if args.json:
        print(to_json(result.to_dict()).decode(), file=out)
    else:
        print(format_result(result), file=out)
    return 0 if result.ok else 1


def _verify_items(items: list[tuple[bytes | str, str | None]], trusted: TrustedIssuers,
                  now: float | None, options: VerifyOptions) -> VerificationResult:
    """One input, or several images / shc:/ texts forming one (chunked) card."""
    if len(items) == 1:
        data, name = items[0]
        return verify(data, trusted, now=now, filename=name, options=options)
    blobs = [d if isinstance(d, bytes) else d.encode() for d, _ in items]
    if all(is_image(b, n) for b, (_, n) in zip(blobs, items, strict=True)):
        return verify_images(blobs, trusted, now=now, options=options)
    texts = [b.decode("utf-8", "replace") for b in blobs]
    return verify_qr_texts(texts, trusted, now=now, options=options)


def format_result(result: VerificationResult) -> str:
    """Human-readable verdict: who, what, and why."""
    lines = [f"verdict: {result.verdict.upper()}"]
    if result.issuer:
        lines.append(f"issuer:  {result.issuer_name or ''} <{result.issuer}>")
    if result.subject:
        lines.append(f"who:     {result.subject.name}, born {result.subject.birth_date or '?'}")
    for dose in result.doses:
        lines.append(f"dose:    {dose.date or '?'}  {dose.vaccine_system or ''}|"
                     f"{dose.vaccine_code or ''}  lot {dose.lot_number or '-'}  "
                     f"{dose.performer or ''}".rstrip())
    lines += [f"reason:  {r}" for r in result.reasons]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def cli_card(argv: list[str], *, out: TextIO = sys.stdout) -> int:
    """`fhir-server card --bundle FILE [--patient ID] --out DIR`: issue cards offline."""
    parser = _parser("fhir-server card", "Issue SMART Health Cards from a FHIR Bundle file.")
    parser.add_argument("--bundle", required=True, help="Bundle with Patient + Immunizations")
    parser.add_argument("--patient", help="Patient id (default: the bundle's only Patient)")
    parser.add_argument("--out", required=True, help="directory for the card files")
    parser.add_argument("--iss", default=_env("FHIR_SERVER_SHC_ISSUER"))
    parser.add_argument("--key-dir", default=_env("FHIR_SERVER_SHC_KEY_DIR"))
    parser.add_argument("--now", type=float)
    parser.add_argument("--exp", type=float, help="optional expiry, epoch seconds")
    try:
        args = parser.parse_args(argv)
    except (argparse.ArgumentError, SystemExit) as exc:
        print(f"usage error: {exc}", file=out)
        return 2
    if not args.iss or not args.key_dir:
        print("need --iss and --key-dir (or FHIR_SERVER_SHC_ISSUER / _KEY_DIR)", file=out)
        return 2
    try:
        resources = _bundle_resources(Path(args.bundle).read_bytes())
        patient = _pick_patient(resources, args.patient)
        cards = issue_cards(patient, resources, iss=args.iss, keys=KeyStore(args.key_dir),
                            now=args.now if args.now is not None else time.time(), exp=args.exp,
                            lookup_display=displays_from(resources))
    except (FhirError, OSError, ValueError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=out)
        return 2
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    stem = f"patient-{patient.get('id', 'unknown')}"
    (target / f"{stem}.smart-health-card").write_bytes(health_card_file(c.jws for c in cards))
    for n, card in enumerate(cards, start=1):
        (target / f"{stem}-card-{n}.png").write_bytes(card.png())
        (target / f"{stem}-card-{n}.svg").write_bytes(card.svg())
        (target / f"{stem}-card-{n}.txt").write_text(card.numeric, "ascii")
        print(f"card {n}: {card.doses} dose(s), JWS {len(card.jws)} chars, kid {card.kid}",
              file=out)
    return 0


def _bundle_resources(data: bytes) -> list[dict[str, Any]]:
    """The resources of a Bundle file (transaction, collection or searchset)."""
    bundle = from_json(data)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValueError("the file is not a FHIR Bundle")
    return [e["resource"] for e in bundle.get("entry") or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _pick_patient(resources: list[dict[str, Any]], patient_id: str | None) -> dict[str, Any]:
    """The Patient with this id, or the only Patient of the bundle."""
    patients = [r for r in resources if r.get("resourceType") == "Patient"
                and (patient_id is None or r.get("id") == patient_id)]
    if len(patients) != 1:
        raise ValueError(f"expected one Patient{' ' + patient_id if patient_id else ''}, "
                         f"found {len(patients)}")
    return patients[0]
