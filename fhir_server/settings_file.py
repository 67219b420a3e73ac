"""The settings file (`fhir-server --settings FILE`, or FHIR_SETTINGS_FILE): the environment
variables of the Settings table, one `NAME=VALUE` a line.

The same names as the environment, so a file is an environment written down (the format of
systemd's EnvironmentFile and `docker run --env-file`): `#` comments and blank lines are
skipped, an optional `export ` prefix is allowed, one pair of matching quotes around a value is
removed, nothing is expanded. A variable set in the real environment wins over the file (as with
python-dotenv and docker compose), so one host can override one setting. An unknown name is an
error, so a typo never silently leaves a development default in place.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path

FILE_VARIABLE = "FHIR_SETTINGS_FILE"
# every variable the server reads (settings.py, logs.py, rest/metrics.py, metrics.py,
# embedded.py) plus the process shape of `serve --prod` (production.py)
KNOWN = frozenset({
    "MONGODB_URI", "FHIR_HOME", "FHIR_DATABASE", "FHIR_DB_TIMEOUT_MS", "FHIR_BASE_URL",
    "FHIR_MAX_BODY_BYTES", "FHIR_DEFAULT_PAGE_SIZE", "FHIR_MAX_PAGE_SIZE",
    "FHIR_USE_TRANSACTIONS", "FHIR_AUTH_REQUIRED", "FHIR_AUDIT", "FHIR_AUDIT_SPOOL_DIR",
    "FHIR_AUTH_KEY_DIR", "FHIR_SMS_GATEWAY", "FHIR_SMS_API_KEY", "FHIR_SMS_RETRY_SECONDS",
    "FHIR_SERVER_SHC_ISSUER", "FHIR_ENV", "FHIR_SERVER_SHC_KEY_DIR", "FHIR_EXPORT_DIR",
    "FHIR_SERVER_SHC_TRUSTED", "FHIR_CORS_ORIGINS", "FHIR_REQUIRED_PROFILES",
    "FHIR_LOAD_CONFORMANCE", "FHIR_EMBEDDED_CACHE_SIZE", "FHIR_SYSTEM_CCCD",
    "FHIR_SYSTEM_CMND", "FHIR_SYSTEM_BHYT", "FHIR_SYSTEM_BHXH", "FHIR_SYSTEM_PASSPORT",
    "FHIR_IDENTIFIER_RULES", "FHIR_UNIQUE_IDENTIFIERS", "FHIR_METRICS", "FHIR_METRICS_TOKEN",
    "FHIR_LOG_FORMAT", "PROMETHEUS_MULTIPROC_DIR", "FHIR_SMS_LEASE_SECONDS",
    "FHIR_JOB_STALE_SECONDS", "FHIR_POPULATION_FILE", "FHIR_TRUSTED_PROXIES",
    "FHIR_BIND", "FHIR_WORKERS", "FHIR_THREADS", "FHIR_PROXY_PROTOCOL", "FHIR_PROXY_ALLOW_IPS",
})
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


class SettingsFileError(ValueError):
    """The settings file cannot be used; the message names the file and line."""


def parse_settings(text: str, source: str = "settings file") -> dict[str, str]:
    """The NAME=VALUE pairs of a settings file (SettingsFileError on a bad or unknown line)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        where = f"{source}:{number}"
        if not equals or not _NAME.fullmatch(name):
            raise SettingsFileError(f"{where}: expected NAME=VALUE, got {raw.strip()[:60]!r}")
        if name not in KNOWN:
            close = difflib.get_close_matches(name, sorted(KNOWN), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise SettingsFileError(f"{where}: unknown setting {name}{hint}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def apply_settings_file(path: str | None, environ: MutableMapping[str, str] | None = None
                        ) -> dict[str, str]:
    """Read the file (the given path, else FHIR_SETTINGS_FILE) into the environment where a
    variable is not set already; the file's values (empty when there is no file)."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(FILE_VARIABLE) or None
    if path is None:
        return {}
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsFileError(f"settings file {path}: {error.__class__.__name__}: "
                                f"{getattr(error, 'strerror', None) or error}") from None
    values = parse_settings(text, str(path))
    for name, value in values.items():
        environ.setdefault(name, value)
    environ[FILE_VARIABLE] = str(Path(path).resolve())  # the workers and checks see which file
    return values


def readable_by_others(path: str | None, environ: Mapping[str, str] | None = None) -> bool:
    """True when the settings file in use may be read by other users (it holds secrets)."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(FILE_VARIABLE)
    return bool(path) and Path(str(path)).exists() and bool(Path(str(path)).stat().st_mode
                                                            & 0o077)
