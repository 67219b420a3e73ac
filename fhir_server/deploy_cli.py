"""The deployment commands (issue 16 point 1): `serve --prod`, `indexes`, `init-keys`, `reindex`.

`serve --prod` checks every setting (fhir_server/production.py) and refuses to start, one line
per problem on stderr and exit status 2, when any development default is left; then it runs
gunicorn (gthread, FhirWorker) with the process shape from FHIR_BIND, FHIR_WORKERS and
FHIR_THREADS. `indexes` builds every index and exits (run it before the servers take traffic);
`init-keys` makes the signing keys once, to be copied to every server.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

from fhir_server.settings import Settings, batch_timeout
from fhir_server.settings_file import FILE_VARIABLE


def add_settings_option(parser: argparse.ArgumentParser) -> None:
    """`--settings FILE` (also FHIR_SETTINGS_FILE), accepted before or after the command."""
    parser.add_argument("--settings", metavar="FILE", default=argparse.SUPPRESS,
                        help=f"read settings from a NAME=VALUE file ({FILE_VARIABLE}); the "
                             "environment wins over the file")


def add_deploy_commands(sub: Any) -> None:
    """The `indexes` and `init-keys` subcommands."""
    indexes = sub.add_parser("indexes", help="create every database index, then exit (run "
                                             "before the servers take traffic)")
    add_settings_option(indexes)
    indexes.set_defaults(func=cmd_indexes)
    keys = sub.add_parser("init-keys", help="create the access-token key, OTP secret and "
                                            "health-card issuer key where missing")
    add_settings_option(keys)
    keys.set_defaults(func=cmd_init_keys)
    again = sub.add_parser("reindex", help="recompute the search values of stored resources "
                                           "(after an upgrade adds search parameters)")
    again.add_argument("--type", dest="types", action="append", metavar="TYPE",
                       help="a resource type (repeatable); default every type")
    add_settings_option(again)
    again.set_defaults(func=cmd_reindex)


def refuse(problems: list[str]) -> int:
    """Print each problem on its own line (stderr); the exit status of a refusal."""
    for problem in problems:
        print(f"fhir-server serve --prod: {problem}", file=sys.stderr)
    print(f"fhir-server serve --prod: refused to start ({len(problems)} problem"
          f"{'s' if len(problems) != 1 else ''}; see docs/deploy.md)", file=sys.stderr)
    return 2


def serve_production(args: argparse.Namespace) -> int:
    """Check the production settings, then run gunicorn; 2 (and the reasons) when refused."""
    from fhir_server.production import gunicorn_options, production_problems

    problems = production_problems(args)
    if problems:
        return refuse(problems)
    os.environ["FHIR_ENV"] = "production"  # the workers' Settings check the issuer again
    from fhir_server import create_app
    from fhir_server.serving import Server
    from fhir_server.storage.connection import disconnect_all

    disconnect_all()  # workers open their own clients after the fork
    if os.environ.get("FHIR_LOG_FORMAT") == "json":  # the workers add the JSON handler alone
        logging.getLogger().handlers.clear()
    options, _ = gunicorn_options(os.environ)
    settings = Settings.from_env()
    print(f"FHIR server (production): {settings.base_url} on {options['bind']}, "
          f"{options['workers']} workers x {options['threads']} threads; database "
          f"{settings.database}", flush=True)
    Server(create_app, options).run()
    return 0


def cmd_indexes(args: argparse.Namespace) -> int:
    """Create every index on MONGODB_URI (or the embedded store) and exit: the app factory runs
    once, so exactly the indexes a server makes at start, with throwaway keys (the real key
    directories are never touched) and no SMS retries."""
    from fhir_server import create_app
    from fhir_server.cli import database
    from fhir_server.storage.connection import connect
    from fhir_server.storage.deployment import index_counts

    with database(getattr(args, "data_dir", None)), \
            tempfile.TemporaryDirectory(prefix="fhir-indexes-") as scratch:
        settings = Settings.from_env()
        started = time.monotonic()
        logging.getLogger("fhir_server.health_cards.service").setLevel(logging.WARNING)  # keys
        create_app(replace(settings, auth_key_dir=f"{scratch}/auth", sms_retry_seconds=0,
                           shc_key_dir=f"{scratch}/keys", audit_spool_dir=f"{scratch}/spool"))
        counts = index_counts(connect(settings.mongodb_uri, settings.database,
                                      settings.db_timeout_ms))
    print(f"{sum(counts.values())} indexes on {len(counts)} collections of database "
          f"{settings.database} ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


def cmd_init_keys(args: argparse.Namespace) -> int:
    """Create the signing keys and secrets that do not exist yet; print what was made."""
    from fhir_server.production_keys import init_keys

    settings = Settings.from_env()
    made = init_keys(settings)
    for line in made or ["every key exists already: nothing created"]:
        print(line, flush=True)
    print(f"copy {settings.auth_key_dir} and {settings.shc_key_dir} to every server (0600 "
          "files, 0700 directories)", flush=True)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Recompute the search values of every current resource of the types (all by default);
    a resource written meanwhile keeps its own (the rewrite is conditioned on its version)."""
    from fhir_server.cli import database
    from fhir_server.resource_types import RESOURCE_TYPES
    from fhir_server.search.extract import SearchIndexer
    from fhir_server.storage.connection import connect
    from fhir_server.storage.search_indexes import reindex

    types = args.types or sorted(RESOURCE_TYPES)
    unknown = [name for name in types if name not in RESOURCE_TYPES]
    if unknown:
        print(f"fhir-server reindex: unknown resource type {', '.join(unknown)}", file=sys.stderr)
        return 2
    with database(getattr(args, "data_dir", None)):
        settings = Settings.from_env(db_timeout_ms=batch_timeout())
        started = time.monotonic()
        done = reindex(connect(settings.mongodb_uri, settings.database, settings.db_timeout_ms),
                       types, SearchIndexer(settings.base_url))
    print(f"{done} resources reindexed in {len(types)} types ({time.monotonic() - started:.1f} s)",
          flush=True)
    return 0
