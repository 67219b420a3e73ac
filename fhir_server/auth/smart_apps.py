"""SMART apps on a running server: registered clients, the authorization endpoint's sign-ins
and the app token grants, wired once from the storage and the account service."""

from __future__ import annotations

from dataclasses import dataclass

from fhir_server.auth.app_clients import AppClients
from fhir_server.auth.app_tokens import AppTokens
from fhir_server.auth.service import AuthService
from fhir_server.auth.smart_launch import SmartLaunch
from fhir_server.storage.app_client_records import AppClientRecords
from fhir_server.storage.launch_records import LaunchRecords


@dataclass(frozen=True)
class SmartApps:
    """Clients, sign-ins (authorize) and tokens of the SMART standalone patient launch."""

    clients: AppClients
    launch: SmartLaunch
    tokens: AppTokens


def smart_apps(app_clients: AppClientRecords, launches: LaunchRecords,
               auth: AuthService) -> SmartApps:
    """The SMART app services over these stores and the server's account service."""
    clients = AppClients(app_clients)
    clock = auth.settings.clock
    return SmartApps(
        clients,
        SmartLaunch(launches, clients, auth.accounts, clock, auth.settings.base_url),
        AppTokens(launches, clients, auth.accounts, auth.sessions, clock))
