"""The `fhir-server` command: serve, seed (more subcommands join as features land)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fhir_server.embedded import EmbeddedStore
from fhir_server.storage.connection import disconnect_all

DEFAULT_DATA_DIR = Path("var/mongo")


@contextmanager
def database(data_dir: Path) -> Iterator[str]:
    """MONGODB_URI when set; otherwise an embedded SecantusDB on data_dir for the duration."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    store = EmbeddedStore(data_dir.resolve(), log_path=data_dir.resolve().parent / "mongo.log")
    print(f"embedded store: SecantusDB on {store.uri} with data in {data_dir}", flush=True)
    with store:
        os.environ["MONGODB_URI"] = store.uri
        try:
            yield store.uri
        finally:
            os.environ.pop("MONGODB_URI", None)


def _services() -> Any:
    from fhir_server import create_app

    return create_app().extensions["fhir"]


def cmd_seed(args: argparse.Namespace) -> int:
    """Load the demo data."""
    from fhir_server.seed import seed

    with database(args.data_dir):
        created = seed(_services())
    print(f"demo data: {created} resources created")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server under gunicorn (embedded store unless MONGODB_URI is set)."""
    from gunicorn.app.base import BaseApplication

    from fhir_server import create_app

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("graceful_timeout", 10)
            self.cfg.set("accesslog", "-" if args.access_log else None)

        def load(self) -> Any:
            return create_app()

    with database(args.data_dir):
        os.environ.setdefault("FHIR_BASE_URL", f"http://{args.host}:{args.port}")
        if args.seed:
            from fhir_server.seed import seed

            print(f"demo data: {seed(_services())} resources created", flush=True)
        disconnect_all()  # workers open their own clients after the fork
        base = os.environ["FHIR_BASE_URL"]
        print(f"FHIR server:  {base}/metadata\nAPI docs:     {base}/docs\n"
              f"OpenAPI:      {base}/openapi.json\nDemo patient: {base}/Patient/demo-nguyen-van-an",
              flush=True)
        Server().run()
    return 0


def _card_defaults() -> None:
    """Point the health-card commands at this server's key directory and issuer by default."""
    from fhir_server.settings import Settings

    settings = Settings.from_env()
    os.environ.setdefault("FHIR_SERVER_SHC_KEY_DIR", settings.shc_key_dir)
    os.environ.setdefault("FHIR_SERVER_SHC_ISSUER", settings.issuer)


def cmd_keys(args: argparse.Namespace) -> int:
    """Manage the SMART Health Card issuer keys (create, rotate, list, jwks, crl, revoke)."""
    from fhir_server.health_cards.cli import cli_keys

    _card_defaults()
    return cli_keys(list(args.rest), out=sys.stdout)


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify a SMART Health Card (file, shc:/ text, JWS or QR image)."""
    from fhir_server.health_cards.cli import cli_verify

    _card_defaults()
    return cli_verify(list(args.rest), out=sys.stdout)


def cmd_card(args: argparse.Namespace) -> int:
    """Issue one patient's card from the database and write its file, text and QR images."""
    from fhir_server.health_cards.issue import health_card_file
    from fhir_server.interactions import crud
    from fhir_server.operations.health_cards import card_service, patient_immunizations

    out: Path = args.out
    with database(args.data_dir):
        svc = _services()
        patient = crud.read(svc, "Patient", args.patient_id).resource or {}
        cards = card_service(svc).issue(patient, patient_immunizations(svc, args.patient_id))
    out.mkdir(parents=True, exist_ok=True)
    stem = out / args.patient_id
    stem.with_suffix(".smart-health-card").write_bytes(health_card_file(c.jws for c in cards))
    for number, card in enumerate(cards):
        (out / f"{args.patient_id}-{number}.txt").write_text(card.numeric + "\n")
        (out / f"{args.patient_id}-{number}.png").write_bytes(card.png())
        (out / f"{args.patient_id}-{number}.svg").write_bytes(card.svg())
    print(f"{len(cards)} card(s) for Patient/{args.patient_id} written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="fhir-server", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="embedded store data directory (when MONGODB_URI is not set)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the FHIR server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--seed", action="store_true", help="load the demo data first")
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(func=cmd_serve)
    seed = sub.add_parser("seed", help="load the demo data set")
    seed.set_defaults(func=cmd_seed)
    for name, func, text in (("keys", cmd_keys, "manage health-card issuer keys"),
                             ("verify", cmd_verify, "verify a SMART Health Card")):
        command = sub.add_parser(name, help=text, add_help=False)
        command.add_argument("rest", nargs=argparse.REMAINDER)
        command.set_defaults(func=func)
    card = sub.add_parser("card", help="write one patient's health card (file, text, QR)")
    card.add_argument("patient_id")
    card.add_argument("--out", type=Path, required=True)
    card.set_defaults(func=cmd_card)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the fhir-server console script."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
