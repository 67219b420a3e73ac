"""The arguments and the body of `fhir-server import` (cli.py holds only the subcommand)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fhir_server.bulk.checkpoint import Checkpoint, default_paths

if TYPE_CHECKING:
    from fhir_server.interactions.context import Services

HELP = """Import NDJSON files (one resource per line; resources with an id are upserted) or
Bundle JSON files (each a transaction or batch, exactly as POST [base]) from PATH, a file or a
directory. Progress is checkpointed: rerunning the same command resumes where it stopped.
Bad lines are written to the error file as `path:line: message` and do not stop the import."""


def add_import_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of the import subcommand."""
    parser.description = HELP
    parser.add_argument("path", type=Path, help="an NDJSON/Bundle file or a directory of them")
    parser.add_argument("--dedupe", action="store_true",
                        help="Organization and Practitioner become conditional creates on "
                             "their identifier (no duplicates across files/bundles)")
    parser.add_argument("--skip-unsupported", action="store_true",
                        help="skip resources of types this server does not store (and "
                             "references to them), reporting counts")
    parser.add_argument("--checkpoint", type=Path,
                        help="checkpoint file (default FHIR_HOME/import/<name>-<hash>"
                             ".checkpoint.json)")
    parser.add_argument("--errors", type=Path,
                        help="error file (default FHIR_HOME/import/<name>-<hash>.errors.txt)")
    parser.add_argument("--restart", action="store_true",
                        help="ignore the checkpoint and import everything again")
    parser.add_argument("--chunk-size", type=int, default=100,
                        help="NDJSON lines per database transaction (default 100)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run_import(svc: Services, args: argparse.Namespace) -> int:
    """Run the import; 0 when every line/bundle went in, 1 when some failed (see errors)."""
    from fhir_server.auth.principal import INTERNAL_PRINCIPAL, acting_as
    from fhir_server.bulk.importer import Importer, ImportOptions, error_file

    default_checkpoint, default_errors = default_paths(args.path)
    try:
        checkpoint = Checkpoint.load(args.checkpoint or default_checkpoint, args.path,
                                     args.restart)
    except ValueError as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    if checkpoint.resumed:
        print(f"resuming from {checkpoint.path}", flush=True)
    options = ImportOptions(dedupe=args.dedupe, skip_unsupported=args.skip_unsupported,
                            chunk_size=max(1, args.chunk_size), progress=not args.no_progress)
    errors_path = args.errors or default_errors
    with error_file(errors_path, fresh=not checkpoint.resumed) as errors, \
            acting_as(INTERNAL_PRINCIPAL):  # an operator's tool: the server's own authority
        stats = Importer(svc, options, checkpoint, errors).run(args.path)
    print(f"imported {stats.summary()}", flush=True)
    if stats.failed:
        print(f"errors: {errors_path}", flush=True)
    return 1 if stats.failed else 0
