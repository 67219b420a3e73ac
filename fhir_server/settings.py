"""Typed settings read from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime


def utc_now() -> datetime:
    """The real clock (UTC); settings carry it so tests can inject another."""
    return datetime.now(UTC)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw not in (None, "") else default


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
    clock: Callable[[], datetime] = field(default=utc_now, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read FHIR_* / MONGODB_URI variables; keyword overrides win."""
        env = os.environ if env is None else env
        settings = cls(
            mongodb_uri=env.get("MONGODB_URI") or cls.mongodb_uri,
            database=env.get("FHIR_DATABASE") or cls.database,
            base_url=(env.get("FHIR_BASE_URL") or cls.base_url).rstrip("/"),
            max_body_bytes=_int(env, "FHIR_MAX_BODY_BYTES", cls.max_body_bytes),
            default_page_size=_int(env, "FHIR_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=_int(env, "FHIR_MAX_PAGE_SIZE", cls.max_page_size),
            use_transactions=(env.get("FHIR_USE_TRANSACTIONS", "1") not in ("0", "false", "no")),
            shc_issuer=(env.get("FHIR_SERVER_SHC_ISSUER") or "").rstrip("/"),
            shc_key_dir=env.get("FHIR_SERVER_SHC_KEY_DIR") or cls.shc_key_dir,
            shc_trusted_file=env.get("FHIR_SERVER_SHC_TRUSTED") or "",
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]

    @property
    def issuer(self) -> str:
        """The SMART Health Card issuer URL (`iss`): FHIR_SERVER_SHC_ISSUER or the base URL."""
        return self.shc_issuer or self.base_url
