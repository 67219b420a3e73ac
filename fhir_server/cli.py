"""The `fhir-server` command: serve, seed (more subcommands join as features land)."""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fhir_server.auth.client_cli import add_client_arguments
from fhir_server.bulk.import_cli import add_import_arguments
from fhir_server.deploy_cli import add_deploy_commands, add_settings_option, serve_production
from fhir_server.embedded import EmbeddedStore, running_uri
from fhir_server.scheduling.reminders import add_reminder_arguments
from fhir_server.settings import Settings, batch_timeout
from fhir_server.settings_file import SettingsFileError, apply_settings_file
from fhir_server.storage.connection import disconnect_all


@contextmanager
def database(data_dir: Path | None) -> Iterator[str]:
    """MONGODB_URI when set; otherwise an embedded SecantusDB on data_dir for the duration."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    data_dir = data_dir or Path(Settings.from_env().home) / "mongo"  # never the cwd
    running = running_uri(data_dir.resolve())
    if running is not None:  # `make run` has it open: use that server
        print(f"embedded store: the SecantusDB already serving {data_dir} ({running})",
              flush=True)
        os.environ["MONGODB_URI"] = running
        try:
            yield running
        finally:
            os.environ.pop("MONGODB_URI", None)
        return
    store = EmbeddedStore(data_dir.resolve(), log_path=data_dir.resolve().parent / "mongo.log")
    print(f"embedded store: SecantusDB on {store.uri} with data in {data_dir}", flush=True)
    try:
        store.start()
    except RuntimeError as error:  # e.g. the directory is held by a store that does not answer
        raise SystemExit(f"fhir-server: {error}") from None
    with store:
        os.environ["MONGODB_URI"] = store.uri
        try:
            yield store.uri
        finally:
            os.environ.pop("MONGODB_URI", None)


DEMO_CAMPAIGN_PEOPLE = 400  # `serve --seed` (make run): a synthetic campaign for the dashboard


def _services() -> Any:
    """The services of an app for one-shot commands: no SMS retry thread (issue 12, 12a)."""
    from fhir_server import create_app

    settings = Settings.from_env(sms_retry_seconds=0, db_timeout_ms=batch_timeout())
    return create_app(settings).extensions["fhir"].internal()


def cmd_seed(args: argparse.Namespace) -> int:
    """Load the demo data."""
    with database(args.data_dir):
        _seed()
        if args.people:
            _seed_people(args)
    return 0


def _seed_people(args: argparse.Namespace) -> None:
    """The synthetic campaign of `--people N` (fhir_server/synthetic/writer.py)."""
    from fhir_server.synthetic.writer import SeedOptions, seed_campaign

    options = SeedOptions(args.people, args.seed_number, args.days, args.sites,
                          progress=not args.quiet and sys.stderr.isatty(),
                          rebuild=args.rebuild_analytics)
    print(seed_campaign(_services(), options).summary(), flush=True)


def _seed(campaign: int = 0) -> None:
    """Seed the demo data and logins, printing them; on the first seeding, also a synthetic
    campaign of `campaign` people (so the dashboard and the indicators show something)."""
    from fhir_server.seed import seed, seed_accounts
    from fhir_server.synthetic.writer import SeedOptions, seed_campaign

    svc = _services()
    created = seed(svc)
    print(f"demo data: {created} resources created", flush=True)
    if created and campaign:
        print("demo campaign: " + seed_campaign(svc, SeedOptions(campaign, progress=False))
              .summary(), flush=True)
    print("demo logins (POST /auth/login {username, password}):\n  "
          + "\n  ".join(seed_accounts(svc)), flush=True)


def cmd_analytics(args: argparse.Namespace) -> int:
    """`analytics rebuild`: recompute the indicator facts from the stored resources."""
    from fhir_server.analytics.rebuild import rebuild

    with database(args.data_dir):
        print(rebuild(_services()).summary(), flush=True)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import NDJSON or Bundle files (fhir_server/bulk/import_cli.py)."""
    from fhir_server.bulk.import_cli import run_import

    with database(args.data_dir):
        return run_import(_services(), args)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server under gunicorn (embedded store unless MONGODB_URI is set)."""
    from fhir_server import create_app
    from fhir_server.serving import Server

    if args.prod:  # settings from the environment or --settings only (deploy_cli.py)
        return serve_production(args)
    args.host, args.port = args.host or "127.0.0.1", args.port or 8080
    options = {"bind": f"{args.host}:{args.port}", "workers": args.workers or 2,
               "threads": args.threads or 8, "graceful_timeout": 10,
               "accesslog": "-" if args.access_log else None}
    with database(args.data_dir):
        os.environ.setdefault("FHIR_BASE_URL", f"http://{args.host}:{args.port}")
        if args.seed:
            _seed(campaign=DEMO_CAMPAIGN_PEOPLE)
        disconnect_all()  # workers open their own clients after the fork
        settings = Settings.from_env()
        base = settings.base_url
        print(f"FHIR server:  {base}/metadata\nAPI docs:     {base}/docs\n"
              f"OpenAPI:      {base}/openapi.json\nReadiness:    {base}/readyz\n"
              f"Dashboard:    {base}/dashboard (analyst)\nVerifier:     {base}/verify\n"
              f"Demo patient: {base}/Patient/demo-nguyen-van-an\n"
              f"Keys:         access tokens in {settings.auth_key_dir}, health-card issuer keys "
              f"in {settings.shc_key_dir}", flush=True)
        Server(create_app, options).run()
    return 0


def _card_defaults() -> None:
    """Point the health-card commands at this server's key directory and issuer by default."""
    from fhir_server.settings import Settings

    settings = Settings.from_env()
    os.environ.setdefault("FHIR_SERVER_SHC_KEY_DIR", settings.shc_key_dir)  # absolute (home)
    os.environ.setdefault("FHIR_SERVER_SHC_ISSUER", settings.issuer)


def cmd_keys(args: argparse.Namespace) -> int:
    """Manage the SMART Health Card issuer keys (create, rotate, list, jwks, crl, revoke)."""
    from fhir_server.health_cards.cli import cli_keys

    _card_defaults()
    if _wants_help(args.rest):
        cli_keys(["--help"], out=io.StringIO())  # argparse prints the help, then exits
        return 0
    return cli_keys(list(args.rest), out=sys.stdout)


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify a SMART Health Card (file, shc:/ text, JWS or QR image)."""
    from fhir_server.errors import FhirError
    from fhir_server.health_cards.cli import cli_verify

    _card_defaults()
    if _wants_help(args.rest):
        cli_verify(["--help"], out=io.StringIO())  # argparse prints the help, then exits
        return 0
    try:
        return cli_verify(list(args.rest), out=sys.stdout)
    except FhirError as exc:  # e.g. an image beyond the size budget
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


def _wants_help(rest: Sequence[str]) -> bool:
    """True when a pass-through command's own arguments ask for its help."""
    return any(item in ("-h", "--help") for item in rest)


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


def cmd_reminders(args: argparse.Namespace) -> int:
    """SMS and in-app reminders for a day's booked appointments (safe to run twice)."""
    from fhir_server.scheduling.reminders import run_command

    with database(args.data_dir):
        return run_command(_services(), args.date, sys.stdout)


def _ttl_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"bad duration '{text}': use e.g. 90s, 10m, 2h")


def cmd_token(args: argparse.Namespace) -> int:
    """Print a system access token signed with this server's key (needs the key files)."""
    from fhir_server.auth.scopes import ScopeSet
    from fhir_server.auth.tokens import TokenSigner, load_or_create_key
    from fhir_server.settings import Settings

    settings = Settings.from_env()
    scopes = ScopeSet.parse(args.scope)
    if not scopes.permissions or scopes.contexts() != {"system"}:
        print("scope must be system/ scopes, e.g. 'system/*.*'", file=sys.stderr)
        return 2
    signer = TokenSigner(load_or_create_key(settings.auth_key_dir), settings.base_url)
    print(signer.issue({"sub": args.subject, "kind": "system", "scope": str(scopes)},
                       args.ttl))
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    """Create a staff account (practitioner, analyst or admin)."""
    with database(args.data_dir):
        service = _services().components["auth"]
        account = service.accounts.create_staff(args.phone, args.name, args.password,
                                                args.role, args.practitioner)
    print(f"staff account {account['_id']} ({', '.join(args.role)}) for {account['phone']}")
    return 0


def cmd_client(args: argparse.Namespace) -> int:
    """Register, list or remove SMART apps and Backend Services clients."""
    from fhir_server.auth.client_cli import run_client

    with database(args.data_dir):
        components = _services().components
        return run_client(components["auth"], components["smart"], args, sys.stdout,
                          sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="fhir-server", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="embedded store data directory when MONGODB_URI is not set "
                             "(default: FHIR_HOME/mongo)")
    add_settings_option(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    add_deploy_commands(sub)
    serve = sub.add_parser("serve", help="run the FHIR server")
    serve.add_argument("--host", help="default 127.0.0.1")  # None: not given (--prod)
    serve.add_argument("--port", type=int, help="default 8080")
    serve.add_argument("--workers", type=int, help="default 2")
    serve.add_argument("--threads", type=int, help="default 8")
    serve.add_argument("--seed", action="store_true", help="load the demo data first")
    serve.add_argument("--prod", action="store_true", help="production: refuse development "
                       "defaults (docs/deploy.md); settings from the environment or --settings")
    add_settings_option(serve)
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(func=cmd_serve)
    seed = sub.add_parser("seed", help="load the demo data set")
    seed.add_argument("--people", type=int, default=0,
                      help="also generate a synthetic campaign of N people")
    seed.add_argument("--seed-number", type=int, default=2021, help="random seed")
    seed.add_argument("--days", type=int, default=365, help="campaign days up to today")
    seed.add_argument("--sites", type=int, default=None, help="vaccination sites")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.add_argument("--rebuild-analytics", action="store_true",
                      help="no analytics rollup per chunk: one `analytics rebuild` at the end "
                           "(faster for large N; run while nobody else writes)")
    seed.set_defaults(func=cmd_seed)
    analytics = sub.add_parser("analytics", help="indicator facts: `rebuild` recomputes them "
                               "from the stored resources")
    analytics.add_argument("action", choices=["rebuild"])
    analytics.set_defaults(func=cmd_analytics)
    add_import_arguments(sub.add_parser("import", help="import NDJSON or Bundle files (resumable)")
                         ).set_defaults(func=cmd_import)
    for name, func, text in (("keys", cmd_keys, "manage health-card issuer keys"),
                             ("verify", cmd_verify, "verify a SMART Health Card")):
        command = sub.add_parser(name, help=text, add_help=False)
        command.add_argument("rest", nargs=argparse.REMAINDER)
        command.set_defaults(func=func)
    token = sub.add_parser("token", help="print a system access token (operators, scripts)")
    token.add_argument("--scope", default="system/*.read")
    token.add_argument("--ttl", type=_ttl_seconds, default=600)
    token.add_argument("--subject", default="operator")
    token.set_defaults(func=cmd_token)
    staff = sub.add_parser("staff", help="create a staff account")
    staff.add_argument("--phone", required=True)
    staff.add_argument("--name", required=True)
    staff.add_argument("--password", required=True)
    staff.add_argument("--role", action="append", required=True,
                       choices=["practitioner", "analyst", "admin"])
    staff.add_argument("--practitioner", help="Practitioner resource id of this person")
    staff.set_defaults(func=cmd_staff)
    add_client_arguments(sub.add_parser(
        "client", help="register, list or remove SMART apps and backend clients")
    ).set_defaults(func=cmd_client)
    card = sub.add_parser("card", help="write one patient's health card (file, text, QR)")
    card.add_argument("patient_id")
    card.add_argument("--out", type=Path, required=True)
    card.set_defaults(func=cmd_card)
    add_reminder_arguments(sub.add_parser(
        "reminders", help="text tomorrow's booked appointments (safe to rerun)")
    ).set_defaults(func=cmd_reminders)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the fhir-server console script."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args, extra = build_parser().parse_known_args(argv)
    if extra and args.command not in PASS_THROUGH:
        build_parser().parse_args(argv)  # reports the unknown arguments and exits
    if extra:
        args.rest = [*extra, *args.rest]  # e.g. `verify --help`: argparse leaves it to us
    try:
        apply_settings_file(getattr(args, "settings", None))  # the environment wins
    except SettingsFileError as error:
        print(f"fhir-server: {error}", file=sys.stderr)
        return 2
    before = _key_dirs()
    code = int(args.func(args))
    for kind, path in _key_dirs().items():
        if path is not None and before.get(kind) is None:
            print(f"created {kind} in {path}", file=sys.stderr)
    return code


PASS_THROUGH = ("keys", "verify")


def _key_dirs() -> dict[str, str | None]:
    """Each key directory of the configured FHIR_HOME, or None when it does not exist yet."""
    settings = Settings.from_env()
    found = {"access-token signing key and OTP secret": settings.auth_key_dir,
             "health-card issuer keys": settings.shc_key_dir}
    return {kind: path if Path(path).is_dir() else None for kind, path in found.items()}


if __name__ == "__main__":
    sys.exit(main())
