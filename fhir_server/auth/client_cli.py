"""`fhir-server client register|list|remove`: SMART apps (public or confidential, with
redirect URIs and allowed patient/ scopes) and Backend Services clients (public JWKS,
system/ scopes), stored through the typed client stores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from fhir_server.errors import FhirError


def add_client_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `client` command group's subcommands and options."""
    sub = parser.add_subparsers(dest="client_command", required=True)
    register = sub.add_parser("register", help="register an app or a backend client")
    register.add_argument("client_id")
    kind = register.add_mutually_exclusive_group(required=True)
    kind.add_argument("--public", action="store_true",
                      help="a SMART app without a secret (browser or mobile; PKCE)")
    kind.add_argument("--confidential", action="store_true",
                      help="a SMART app with a client secret (client_secret_basic)")
    kind.add_argument("--jwks", help="a Backend Services client: file with its public JWKS")
    register.add_argument("--redirect-uri", action="append", default=[],
                          help="an exact redirect URI of the app (repeat for several)")
    register.add_argument("--scope", required=True,
                          help="scopes it may ask for, e.g. 'launch/patient patient/*.rs "
                               "offline_access' (apps) or 'system/*.read' (backend)")
    register.add_argument("--name", help="the name shown to citizens on the consent page")
    sub.add_parser("list", help="list the registered clients")
    remove = sub.add_parser("remove", help="unregister a client")
    remove.add_argument("client_id")
    return parser


def run_client(service: Any, apps: Any, args: argparse.Namespace, out: TextIO,
               err: TextIO) -> int:
    """Run one `client` subcommand against the auth service and SMART apps; exit code."""
    try:
        if args.client_command == "register":
            return _register(service, apps, args, out)
        if args.client_command == "list":
            for client in apps.clients.all():
                print(f"{client.id}\t{client.kind}\t{client.scope}\t"
                      f"{' '.join(client.redirect_uris)}\t{client.name}", file=out)
            for backend in service.clients.records.all():
                print(f"{backend.id}\tbackend\t{backend.scope}\t-\t{backend.name}", file=out)
            return 0
        if apps.clients.get(args.client_id) is not None:
            apps.clients.remove(args.client_id)
        elif not service.clients.records.remove(args.client_id):
            print(f"error: no client {args.client_id}", file=err)
            return 1
        print(f"client {args.client_id} removed", file=out)
        return 0
    except FhirError as exc:
        print(f"error: {exc.message}", file=err)
        return 1


def _register(service: Any, apps: Any, args: argparse.Namespace, out: TextIO) -> int:
    name = args.name or args.client_id
    if args.jwks:
        if args.redirect_uri:
            raise FhirError("backend clients have no redirect URIs")
        if service.clients.records.get(args.client_id) or apps.clients.get(args.client_id):
            raise FhirError(f"client {args.client_id} is registered already")
        service.clients.register(args.client_id, name,
                                 json.loads(Path(args.jwks).read_text()), args.scope)
        print(f"backend client {args.client_id} registered with scope '{args.scope}'", file=out)
        return 0
    if service.clients.records.get(args.client_id):
        raise FhirError(f"client {args.client_id} is registered already")
    secret = apps.clients.register(args.client_id, name, bool(args.confidential),
                                   args.redirect_uri, args.scope)
    kind = "confidential" if secret else "public"
    print(f"{kind} app {args.client_id} registered with scope '{args.scope}' and redirect "
          f"URIs {' '.join(args.redirect_uri)}", file=out)
    if secret:
        print(f"client secret (shown once, keep it safe): {secret}", file=out)
    return 0
