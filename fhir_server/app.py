"""Assemble the Flask application from its parts."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from fhir_server.auth.audit import insert_audit_events
from fhir_server.auth.record_link import patients_with_identifier
from fhir_server.auth.service import AuthService
from fhir_server.auth.smart_apps import smart_apps
from fhir_server.conformance import install as install_conformance
from fhir_server.health_cards.service import HealthCardService
from fhir_server.interactions.context import Services
from fhir_server.logs import configure_logging
from fhir_server.metrics import QueueCollector
from fhir_server.resource_types import RESOURCE_TYPES
from fhir_server.rest.auth import auth
from fhir_server.rest.authn import init_authentication
from fhir_server.rest.bulk import bulk
from fhir_server.rest.bundle import bundle
from fhir_server.rest.cors import init_cors
from fhir_server.rest.dashboard_page import dashboard_page
from fhir_server.rest.errors import register_error_handlers
from fhir_server.rest.family import family
from fhir_server.rest.health_cards import health_cards
from fhir_server.rest.metrics import init_metrics
from fhir_server.rest.openapi import init_openapi
from fhir_server.rest.operations import operations
from fhir_server.rest.resources import resources
from fhir_server.rest.search import search
from fhir_server.rest.smart import smart
from fhir_server.rest.smart_token import smart_token
from fhir_server.rest.system import system
from fhir_server.rest.verify_page import verify_page
from fhir_server.search.extract import SearchIndexer
from fhir_server.search.registry import date_params
from fhir_server.settings import Settings
from fhir_server.storage.analytics_facts import ensure_analytics_indexes
from fhir_server.storage.auth_stores import open_auth_stores
from fhir_server.storage.card_records import CardRecords
from fhir_server.storage.connection import connect
from fhir_server.storage.job_records import JobRecords
from fhir_server.storage.launch_records import open_launch_stores
from fhir_server.storage.mongo import MongoResourceStore, instant
from fhir_server.storage.outbox_records import OutboxRecords
from fhir_server.storage.search_indexes import ensure_search_indexes


class FhirFlask(Flask):
    """Flask, with the sync check of each hook and view made once per function (issue 17
    point 1): Flask asks `inspect.iscoroutinefunction` of every hook on every request."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ensure_sync, remembered per function."""
        synced = self._synced.get(func)
        if synced is None:
            synced = self._synced[func] = super().ensure_sync(func)
        return synced


def build_app(settings: Settings | None = None) -> Flask:
    """Create the Flask app connected to MONGODB_URI."""
    settings = settings or Settings.from_env()
    configure_logging()  # FHIR_LOG_FORMAT
    app = FhirFlask("fhir_server")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["FHIR_STARTED"] = instant(settings.clock())
    app.url_map.strict_slashes = False
    db = connect(settings.mongodb_uri, settings.database, settings.db_timeout_ms)
    store = MongoResourceStore(db, settings.clock, SearchIndexer(settings.base_url),
                               settings.unique_systems)
    store.ensure_indexes(list(RESOURCE_TYPES))
    ensure_search_indexes(db, {name: date_params(name) for name in RESOURCE_TYPES})
    ensure_analytics_indexes(db)  # the indicators' facts and rollup cells
    services = Services.anonymous(store, settings)  # each request and job binds its caller
    services.components["health_cards"] = HealthCardService(
        CardRecords(db), settings.issuer, settings.shc_key_dir, settings.shc_trusted_file,
        settings.clock)
    # AuditEvents are stored by the server itself under the ids they were spooled with (append
    # only: no caller can write them through the repository, and a replay is idempotent)
    accounts = AuthService(open_auth_stores(db), settings, partial(insert_audit_events, store))
    accounts.start()  # the SMS retry loop (FHIR_SMS_RETRY_SECONDS; 0: none)
    services.components["auth"] = accounts
    accounts.accounts.patients_by_bhxh = partial(patients_with_identifier, services,
                                                 settings.bhxh_system)  # login by BHXH code
    services.components["smart"] = smart_apps(*open_launch_stores(db), accounts)
    install_conformance(services)  # profile checker on writes; FHIR_LOAD_CONFORMANCE upserts
    app.extensions["fhir"] = services
    queues = QueueCollector(OutboxRecords(db).counts, JobRecords(db).status_counts)
    init_metrics(app, [queues])  # first: the request id, latency and /metrics (FHIR_METRICS)
    init_cors(app, settings.cors_origins)  # preflights never reach authentication
    init_openapi(app)
    init_authentication(app)
    app.register_blueprint(system)
    app.register_blueprint(auth)
    app.register_blueprint(family)  # the citizen's family list
    app.register_blueprint(smart)  # SMART App Launch: the /authorize pages
    app.register_blueprint(smart_token)  # /token: SMART apps and backend services
    app.register_blueprint(search)
    app.register_blueprint(operations)
    app.register_blueprint(health_cards)
    app.register_blueprint(verify_page)  # /verify: the health-card verifier page
    app.register_blueprint(dashboard_page)  # /dashboard: the campaign indicators page
    app.register_blueprint(resources)
    app.register_blueprint(bundle)
    app.register_blueprint(bulk)
    register_error_handlers(app)
    if settings.trusted_proxies:  # behind N proxies: the client address from X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore
                                x_proto=settings.trusted_proxies)
    return app
