"""`fhir-server serve --prod` (issue 16 point 1): the settings a production server refuses.

Each check answers one line per problem (what is wrong, what to set); the command prints them
all and exits 2 before gunicorn starts. Development defaults are refused, not corrected: a
production server never guesses. The database checks (server kind, demo data, indexes) go
through storage/deployment.py. No Flask here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fhir_server.production_keys import key_problems
from fhir_server.settings import Settings
from fhir_server.settings_file import readable_by_others

DEVELOPMENT_ONLY_FLAGS = {  # serve options that only make sense with development defaults
    "seed": "--seed loads the demo data and logins: never with --prod",
    "data_dir": "--data-dir is the embedded store's directory: --prod needs MONGODB_URI",
    "host": "--host: with --prod the address comes from FHIR_BIND (environment or file)",
    "port": "--port: with --prod the address comes from FHIR_BIND (environment or file)",
    "workers": "--workers: with --prod set FHIR_WORKERS (environment or file)",
    "threads": "--threads: with --prod set FHIR_THREADS (environment or file)",
}
OFF = ("0", "false", "no")
LOOPBACK = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def flag_problems(args: Any) -> list[str]:
    """Command-line options given with --prod that production takes from settings instead."""
    return [text for name, text in DEVELOPMENT_ONLY_FLAGS.items()
            if getattr(args, name, None) not in (None, False)]


def _https_problem(name: str, url: str, purpose: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"{name}={url!r} is not https: {purpose} must be the public https URL"
    if (parts.hostname or "") in LOOPBACK or (parts.hostname or "").startswith("127."):
        return f"{name}={url!r} is a loopback address: set the public https URL"
    return None


def uri_problems(uri: str) -> list[str]:
    """The connection string's options that lose writes or read stale data (docs/deploy.md)."""
    if not uri:
        return ["MONGODB_URI is not set: --prod needs a MongoDB replica set or sharded cluster "
                "(the embedded SecantusDB store is for development)"]
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        return ["MONGODB_URI must start with mongodb:// or mongodb+srv://"]
    options = {k.lower(): v.lower() for k, v in parse_qsl(urlsplit(uri).query)}
    problems = []
    if options.get("w") != "majority":
        problems.append(f"MONGODB_URI has w={options.get('w', '(unset)')}: add w=majority "
                        "(an acknowledged write must survive a primary failover)")
    if options.get("journal") == "false":
        problems.append("MONGODB_URI has journal=false: remove it (writes must reach the "
                        "journal)")
    if options.get("readpreference", "primary") != "primary":
        problems.append(f"MONGODB_URI has readPreference={options['readpreference']}: the "
                        "server reads its own writes (versions, claims, counters) and needs "
                        "primary")
    for name in ("retrywrites", "retryreads"):
        if options.get(name) == "false":
            problems.append(f"MONGODB_URI has {name}=false: remove it (a failover must not "
                            "fail requests that can be retried safely)")
    if options.get("directconnection") == "true":
        problems.append("MONGODB_URI has directConnection=true: list the replica set members "
                        "(or the mongos routers) so the driver follows a primary change")
    return problems


def settings_problems(env: Mapping[str, str]) -> list[str]:
    """Development defaults and unsafe values among the settings (environment + file)."""
    if env.get("FHIR_ENV", "production").strip().lower() != "production":
        return [f"FHIR_ENV={env['FHIR_ENV']}: --prod runs with FHIR_ENV=production (unset it)"]
    try:
        settings = Settings.from_env(env, environment="development")  # our own lines below
    except ValueError as error:
        return [str(error)]
    problems = uri_problems(env.get("MONGODB_URI", ""))
    if not env.get("FHIR_HOME"):
        problems.append("FHIR_HOME is not set: production keeps its audit spool, export and "
                        "metrics files in a directory you choose, never in the checkout")
    if not env.get("FHIR_BASE_URL"):
        problems.append("FHIR_BASE_URL is not set: the public https URL clients use (token "
                        "iss/aud, Location, fullUrl, links)")
    elif problem := _https_problem("FHIR_BASE_URL", settings.base_url, "the base URL"):
        problems.append(problem)
    if env.get("FHIR_SERVER_SHC_ISSUER") and (problem := _https_problem(
            "FHIR_SERVER_SHC_ISSUER", settings.shc_issuer,
            "the health-card issuer (SMART Health Cards iss)")):
        problems.append(problem)
    problems += _switch_problems(env, settings)
    problems += _sms_problems(env, settings)
    problems += _cors_problems(env, settings)
    problems += _metrics_problems(env)
    problems += key_problems(env, settings)
    if readable_by_others(None, env):
        problems.append(f"the settings file {env['FHIR_SETTINGS_FILE']} may be read by other "
                        "users: chmod 600 it (it holds secrets)")
    return problems


def _switch_problems(env: Mapping[str, str], settings: Settings) -> list[str]:
    problems = []
    if not settings.auth_required:
        problems.append("FHIR_AUTH_REQUIRED=0 turns authorization off (development only): "
                        "unset it")
    if settings.audit != "all":
        problems.append(f"FHIR_AUDIT={settings.audit}: production records every access to "
                        "personal data, whoever asks (FHIR_AUDIT=all, the default)")
    for name, meaning in (("FHIR_USE_TRANSACTIONS", "transaction bundles and atomic "
                                                    "conditional creates need a replica set"),
                          ("FHIR_UNIQUE_IDENTIFIERS", "a national identifier must name one "
                                                      "Patient"),
                          ("FHIR_IDENTIFIER_RULES", "identifiers are checked before cards are "
                                                    "issued from them")):
        if env.get(name, "1").strip().lower() in OFF:
            problems.append(f"{name}=0 is a development relaxation ({meaning}): unset it")
    return problems


def _sms_problems(env: Mapping[str, str], settings: Settings) -> list[str]:
    kind, _, target = settings.sms_gateway.partition(":")
    problems = []
    if not env.get("FHIR_SMS_GATEWAY") or kind in ("file", "console"):
        problems.append(f"FHIR_SMS_GATEWAY={env.get('FHIR_SMS_GATEWAY', '(unset: file)')}: "
                        "texts (sign-up and reset codes) would never reach a phone; set "
                        "http:https://<provider URL>")
    elif kind != "http" or not target.startswith("https://"):
        problems.append(f"FHIR_SMS_GATEWAY={settings.sms_gateway!r}: use http:https://... "
                        "(codes must not cross the network in clear)")
    elif not settings.sms_api_key:
        problems.append("FHIR_SMS_API_KEY is not set: the gateway needs its key")
    if settings.sms_retry_seconds <= 0:
        problems.append("FHIR_SMS_RETRY_SECONDS=0 stops retrying failed texts: unset it")
    return problems


def _cors_problems(env: Mapping[str, str], settings: Settings) -> list[str]:
    if not env.get("FHIR_CORS_ORIGINS") or "*" in settings.cors_origins:
        return ["FHIR_CORS_ORIGINS is '*' (the default): list the https origins of the web "
                "apps allowed to call the API"]
    return [f"FHIR_CORS_ORIGINS has {origin!r}: browser origins must be https"
            for origin in settings.cors_origins if not origin.startswith("https://")]


def _metrics_problems(env: Mapping[str, str]) -> list[str]:
    mode = env.get("FHIR_METRICS", "public")
    if mode not in ("public", "token", "off"):
        return [f"FHIR_METRICS={mode!r}: use public, token or off"]
    if mode == "token" and not env.get("FHIR_METRICS_TOKEN"):
        return ["FHIR_METRICS=token but FHIR_METRICS_TOKEN is not set"]
    if env.get("FHIR_LOG_FORMAT", "text") not in ("text", "json"):
        return [f"FHIR_LOG_FORMAT={env['FHIR_LOG_FORMAT']!r}: use json (or text)"]
    return []


def gunicorn_options(env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The gunicorn settings of a production server (FHIR_BIND, FHIR_WORKERS, FHIR_THREADS,
    FHIR_PROXY_PROTOCOL, FHIR_PROXY_ALLOW_IPS) and the problems with them."""
    problems = []
    numbers = {}
    for name, default in (("FHIR_WORKERS", os.cpu_count() or 2), ("FHIR_THREADS", 8)):
        raw = env.get(name) or str(default)
        if not raw.isdigit() or int(raw) < 1:
            problems.append(f"{name}={raw!r}: a whole number of at least 1")
        numbers[name] = int(raw) if raw.isdigit() else 1
    options: dict[str, Any] = {
        "bind": env.get("FHIR_BIND") or "0.0.0.0:8080", "workers": numbers["FHIR_WORKERS"],
        "threads": numbers["FHIR_THREADS"], "graceful_timeout": 30, "timeout": 60,
        "keepalive": 75,  # longer than a load balancer's idle timeout (60 s on most)
        "accesslog": None}  # the JSON log line of each request replaces it
    if env.get("FHIR_PROXY_PROTOCOL"):
        options["proxy_protocol"] = env["FHIR_PROXY_PROTOCOL"]
        options["proxy_allow_ips"] = env.get("FHIR_PROXY_ALLOW_IPS") or "127.0.0.1,::1"
    return options, problems


def database_problems(settings: Settings, type_names: tuple[str, ...]) -> list[str]:
    """What the database says: reachable, a replica set or mongos, no demo data, indexes built."""
    from fhir_server.auth.phones import normalise_phone
    from fhir_server.seed import DEMO_LOGINS, demo_resources
    from fhir_server.storage import deployment
    from fhir_server.storage.connection import connect, disconnect

    db = connect(settings.mongodb_uri, settings.database, settings.db_timeout_ms)
    try:
        error = deployment.database_error(db)
        if error is not None:
            return [f"MONGODB_URI: the database did not answer ({error})"]
        problems = []
        if deployment.server_kind(db) == "standalone":
            problems.append("MONGODB_URI names a standalone mongod: production needs a replica "
                            "set or a sharded cluster (replication, transactions)")
        phones = [normalise_phone(phone) for _, phone, _, _ in DEMO_LOGINS]
        if demo := deployment.accounts_with_phones(db, phones):
            problems.append(f"the database holds the demo accounts ({', '.join(demo)}): it "
                            "was seeded with demo data; use a fresh database")
        patients = [r["id"] for r in demo_resources() if r["resourceType"] == "Patient"]
        if demo := deployment.present_ids(db, "Patient", patients):
            problems.append(f"the database holds the demo Patients ({', '.join(demo)}): use a "
                            "database that was never seeded")
        if missing := deployment.all_missing_indexes(db, type_names):
            problems.append(f"{len(missing)} indexes are missing (e.g. {missing[0]}): run "
                            "`fhir-server indexes` before the servers take traffic")
        return problems
    finally:
        disconnect(settings.mongodb_uri, settings.database)


def production_problems(args: Any, env: Mapping[str, str] | None = None) -> list[str]:
    """Every reason not to start `serve --prod` (empty: ready); the database is asked only when
    the settings themselves are sound."""
    from fhir_server.resource_types import RESOURCE_TYPES

    env = os.environ if env is None else env
    problems = flag_problems(args) + settings_problems(env) + gunicorn_options(env)[1]
    if problems:
        return problems
    settings = replace(Settings.from_env(env, environment="development"),
                       environment="production")
    return database_problems(settings, tuple(RESOURCE_TYPES))

