"""Typed settings read from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path


def utc_now() -> datetime:
    """The real clock (UTC); settings carry it so tests can inject another."""
    return datetime.now(UTC)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw not in (None, "") else default


AUDIT_MODES = ("all", "authenticated", "off")


def default_home(env: Mapping[str, str] | None = None) -> str:
    """FHIR_HOME, else the checkout's var/ (run from source), else ~/.local/share/fhir_server."""
    env = os.environ if env is None else env
    if env.get("FHIR_HOME"):
        return str(Path(env["FHIR_HOME"]).expanduser().resolve())
    project = Path(__file__).resolve().parent.parent
    if (project / "pyproject.toml").is_file():
        return str(project / "var")
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(data) / "fhir_server")


def in_home(home: str, path: str) -> str:
    """A configured path: absolute as given, relative ones inside FHIR_HOME (never the cwd)."""
    return str(Path(home) / Path(path).expanduser())


def _gateway_in_home(home: str, gateway: str) -> str:
    return f"file:{in_home(home, gateway[5:])}" if gateway.startswith("file:") else gateway
DB_TIMEOUT_MS = 2000


def db_timeout_ms(env: Mapping[str, str] | None = None) -> int:
    """FHIR_DB_TIMEOUT_MS: how long a request waits for an unreachable database (default 2 s)."""
    value = _int(os.environ if env is None else env, "FHIR_DB_TIMEOUT_MS", DB_TIMEOUT_MS)
    if value <= 0:
        raise ValueError(f"FHIR_DB_TIMEOUT_MS must be a positive number of milliseconds "
                         f"(got {value})")
    return value


BATCH_DB_TIMEOUT_MS = 60_000


def batch_timeout(env: Mapping[str, str] | None = None) -> int:
    """The database timeout of one-shot commands (seed, import, rebuild, reindex): unless
    FHIR_DB_TIMEOUT_MS is set, 60 s instead of 2 s. The driver's monitor checks the server
    within that time and, when it misses, cancels every operation in flight: a store busy with
    a long scan (the embedded SecantusDB under a bulk job) would cancel the job's own reads."""
    env = os.environ if env is None else env
    return db_timeout_ms(env) if env.get("FHIR_DB_TIMEOUT_MS") else BATCH_DB_TIMEOUT_MS


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = (env.get(name) or default).strip().lower()
    if raw not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {raw!r})")
    return raw


ENVIRONMENTS = ("development", "production")


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its deployment."""

    mongodb_uri: str = "mongodb://127.0.0.1:27017"
    database: str = "fhir"
    base_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = 16 * 1024 * 1024
    default_page_size: int = 20
    max_page_size: int = 500
    use_transactions: bool = True
    shc_issuer: str = ""
    shc_key_dir: str = "var/keys"
    shc_trusted_file: str = ""
    auth_required: bool = True
    audit: str = "all"  # AuditEvent per personal-data request: all | authenticated | off
    audit_spool_dir: str = "var/audit-spool"  # AuditEvents on local disk until stored ("": none)
    auth_key_dir: str = "var/auth-keys"
    sms_gateway: str = "file:var/sms-outbox.jsonl"
    sms_api_key: str = ""
    sms_retry_seconds: int = 30
    sms_lease_seconds: int = 600  # a message claimed longer ago lost its worker: sent again
    required_profiles: tuple[str, ...] = ()  # types that must claim a VN profile (profiles/)
    load_conformance: bool = True  # upsert profiles/ + terminology/ into the store at start
    cccd_system: str = "urn:vn:cccd"  # identifier systems (no official MoH namespace yet)
    cmnd_system: str = "urn:vn:cmnd"
    bhyt_system: str = "urn:vn:bhyt"
    bhxh_system: str = "urn:vn:bhxh"
    passport_system: str = "urn:vn:passport"
    unique_identifiers: bool = True  # a national identifier names one Patient (409 otherwise)
    identifier_rules: bool = True  # every Patient's CCCD/BHYT/BHXH (and sites' phones) checked
    export_dir: str = "var/export"  # Bulk Data $export output files
    job_stale_seconds: int = 60  # a running export without heartbeat this long is taken over
    population_file: str = ""  # FHIR_POPULATION_FILE: indicator denominators ("": shipped file)
    cors_origins: tuple[str, ...] = ("*",)  # browser origins allowed (FHIR API and /auth)
    db_timeout_ms: int = 2000  # server selection timeout: a database outage answers 503 fast
    trusted_proxies: int = 0  # FHIR_TRUSTED_PROXIES: proxies in front whose X-Forwarded-For counts
    home: str = "var"  # FHIR_HOME: key, export, outbox and embedded-store files live here
    environment: str = "development"  # FHIR_ENV: production refuses an http card issuer
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read FHIR_* / MONGODB_URI variables; keyword overrides win."""
        env = os.environ if env is None else env
        home = default_home(env)
        settings = cls(
            mongodb_uri=env.get("MONGODB_URI") or cls.mongodb_uri,
            database=env.get("FHIR_DATABASE") or cls.database,
            base_url=(env.get("FHIR_BASE_URL") or cls.base_url).rstrip("/"),
            max_body_bytes=_int(env, "FHIR_MAX_BODY_BYTES", cls.max_body_bytes),
            default_page_size=_int(env, "FHIR_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=_int(env, "FHIR_MAX_PAGE_SIZE", cls.max_page_size),
            use_transactions=(env.get("FHIR_USE_TRANSACTIONS", "1") not in ("0", "false", "no")),
            shc_issuer=(env.get("FHIR_SERVER_SHC_ISSUER") or "").rstrip("/"),
            shc_key_dir=in_home(home, env.get("FHIR_SERVER_SHC_KEY_DIR") or "keys"),
            shc_trusted_file=env.get("FHIR_SERVER_SHC_TRUSTED") or "",
            auth_required=(env.get("FHIR_AUTH_REQUIRED", "1") not in ("0", "false", "no")),
            audit=_choice(env, "FHIR_AUDIT", cls.audit, AUDIT_MODES),
            audit_spool_dir=in_home(home, env.get("FHIR_AUDIT_SPOOL_DIR") or "audit-spool"),
            auth_key_dir=in_home(home, env.get("FHIR_AUTH_KEY_DIR") or "auth-keys"),
            sms_gateway=_gateway_in_home(home, env.get("FHIR_SMS_GATEWAY")
                                         or "file:sms-outbox.jsonl"),
            sms_api_key=env.get("FHIR_SMS_API_KEY") or "",
            sms_retry_seconds=_int(env, "FHIR_SMS_RETRY_SECONDS", cls.sms_retry_seconds),
            sms_lease_seconds=_int(env, "FHIR_SMS_LEASE_SECONDS", cls.sms_lease_seconds),
            required_profiles=tuple(t.strip() for t in env.get("FHIR_REQUIRED_PROFILES", "")
                                    .split(",") if t.strip()),
            load_conformance=env.get("FHIR_LOAD_CONFORMANCE", "1") in ("1", "true", "yes"),
            cccd_system=env.get("FHIR_SYSTEM_CCCD") or cls.cccd_system,
            cmnd_system=env.get("FHIR_SYSTEM_CMND") or cls.cmnd_system,
            bhyt_system=env.get("FHIR_SYSTEM_BHYT") or cls.bhyt_system,
            bhxh_system=env.get("FHIR_SYSTEM_BHXH") or cls.bhxh_system,
            passport_system=env.get("FHIR_SYSTEM_PASSPORT") or cls.passport_system,
            unique_identifiers=env.get("FHIR_UNIQUE_IDENTIFIERS", "1") not in ("0", "false",
                                                                                "no"),
            identifier_rules=env.get("FHIR_IDENTIFIER_RULES", "1") not in ("0", "false", "no"),
            export_dir=in_home(home, env.get("FHIR_EXPORT_DIR") or "export"),
            job_stale_seconds=_int(env, "FHIR_JOB_STALE_SECONDS", cls.job_stale_seconds),
            population_file=env.get("FHIR_POPULATION_FILE") or "",
            cors_origins=tuple(o.strip().rstrip("/") for o in env.get(
                "FHIR_CORS_ORIGINS", "*").split(",") if o.strip()),
            db_timeout_ms=db_timeout_ms(env),
            trusted_proxies=_int(env, "FHIR_TRUSTED_PROXIES", cls.trusted_proxies),
            home=home,
            environment=_choice(env, "FHIR_ENV", cls.environment, ENVIRONMENTS),
        )
        if settings.trusted_proxies < 0:
            raise ValueError("FHIR_TRUSTED_PROXIES must be 0 (no proxy) or the number of "
                             "proxies in front of the server")
        return check_production(replace(settings, **overrides))  # type: ignore[arg-type]

    @property
    def unique_systems(self) -> dict[str, tuple[str, ...]]:
        """Resource type -> identifier systems whose values name one resource only."""
        if not self.unique_identifiers:
            return {}
        return {"Patient": (self.cccd_system, self.cmnd_system, self.bhxh_system,
                            self.bhyt_system)}

    @property
    def issuer(self) -> str:
        """The SMART Health Card issuer URL (`iss`): FHIR_SERVER_SHC_ISSUER or the base URL."""
        return self.shc_issuer or self.base_url


def check_production(settings: Settings) -> Settings:
    """Refuse to start production (FHIR_ENV=production) with a health-card issuer not on https."""
    if settings.environment == "production" and not settings.issuer.startswith("https://"):
        raise ValueError(
            f"FHIR_ENV=production needs an https health-card issuer, but it is {settings.issuer!r}"
            ": set FHIR_BASE_URL (or FHIR_SERVER_SHC_ISSUER) to the public https URL "
            "(SMART Health Cards: iss uses https), or leave FHIR_ENV unset for development")
    return settings
