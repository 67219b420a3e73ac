"""The signing keys of a production deployment (issue 16 point 1): made once by
`fhir-server init-keys`, then the same files on every server process (docs/deploy.md).

A development server creates missing keys at start; several production processes doing so would
each sign with their own key (tokens from one rejected by another, cards with different
issuers' keys, revocation ids that do not match). So `serve --prod` refuses a key directory that
is the default, missing, incomplete or readable by other users.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from fhir_server.auth.secrets_files import write_once
from fhir_server.auth.tokens import KEY_FILE, load_or_create_key
from fhir_server.health_cards.keys import KeyStore, KeyStoreError
from fhir_server.settings import Settings

OTP_SECRET = "otp-secret"  # the name AuthService reads (fhir_server/auth/service.py)
AUTH_FILES = (KEY_FILE, OTP_SECRET)
CARD_FILES = ("keys.json", "rid.secret")


def _file_problems(name: str, directory: Path, files: tuple[str, ...]) -> list[str]:
    if not directory.is_dir():
        return [f"{name}={directory} does not exist: run `fhir-server init-keys` once, then "
                "give every server the same directory"]
    problems = [f"{name}: {directory / file} is missing: run `fhir-server init-keys`"
                for file in files if not (directory / file).is_file()]
    loose = [path.name for path in sorted(directory.iterdir())
             if path.is_file() and path.stat().st_mode & 0o077]
    if loose:
        problems.append(f"{name}: {', '.join(loose)} in {directory} may be read by other "
                        "users: chmod 600 them")
    return problems


def key_problems(env: Mapping[str, str], settings: Settings) -> list[str]:
    """Why the access-token and health-card key directories are not fit for production."""
    problems = []
    for name, directory, files in (("FHIR_AUTH_KEY_DIR", settings.auth_key_dir, AUTH_FILES),
                                   ("FHIR_SERVER_SHC_KEY_DIR", settings.shc_key_dir,
                                    CARD_FILES)):
        if not env.get(name):
            problems.append(f"{name} is not set (default {directory}): every server process "
                            "must sign with the same keys; set the shared key directory")
        else:
            problems += _file_problems(name, Path(directory), files)
    crl = Path(settings.shc_key_dir, "crl")
    if env.get("FHIR_SERVER_SHC_KEY_DIR") and crl.is_dir() and not os.access(crl, os.W_OK):
        problems.append(f"FHIR_SERVER_SHC_KEY_DIR: {crl} is not writable: revoking a dose "
                        "writes its key's revocation list there (a shared, writable volume)")
    if env.get("FHIR_SERVER_SHC_KEY_DIR") and Path(settings.shc_key_dir, "keys.json").is_file():
        try:
            KeyStore(settings.shc_key_dir).active_signing_key()
        except KeyStoreError as error:
            problems.append(f"FHIR_SERVER_SHC_KEY_DIR: {error}")
    return problems


def init_keys(settings: Settings) -> list[str]:
    """Create whichever keys and secrets do not exist yet (never replaces one); what it made."""
    made = []
    auth = Path(settings.auth_key_dir)
    for file, create in ((KEY_FILE, lambda: load_or_create_key(auth)),
                         (OTP_SECRET, lambda: write_once(auth / OTP_SECRET,
                                                         secrets.token_bytes(32)))):
        if not (auth / file).exists():
            create()
            made.append(str(auth / file))
    cards = KeyStore(settings.shc_key_dir)
    if not cards.list():
        made.append(f"{settings.shc_key_dir}: issuer key {cards.create().kid}")
    if not (Path(settings.shc_key_dir) / "rid.secret").exists():
        cards.rid_secret()
        made.append(str(Path(settings.shc_key_dir) / "rid.secret"))
    return made
