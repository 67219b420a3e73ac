"""What a route works with: the services bound to this request's caller, and the name of the
interaction the route performs (data carried by the route, read by the audit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from fhir_server.interactions.context import Services

View = TypeVar("View", bound=Callable[..., Any])


def carries(interaction: str) -> Callable[[View], View]:
    """Mark a view with the FHIR interaction it performs (restful-interaction codes)."""
    def mark(view: View) -> View:
        view.fhir_interaction = interaction  # type: ignore[attr-defined]
        return view
    return mark


_UNKNOWN = object()


def route_interaction() -> str | None:
    """The interaction the matched route performs (None: not a FHIR data route); looked up
    once per request (the hooks and the audit ask for it too)."""
    environ = request.environ
    found = environ.get("fhir.interaction", _UNKNOWN)
    if found is _UNKNOWN:
        view = current_app.view_functions.get(request.endpoint or "")
        found = environ["fhir.interaction"] = getattr(view, "fhir_interaction", None)
    return found


def request_services() -> Services:
    """The services acting for this request's caller (bound by the authentication hook)."""
    bound = g.get("fhir_services")
    if bound is None:
        unbound = g.pop("fhir_unbound", None)  # a route without an interaction: bound now
        if unbound is not None:
            bound = g.fhir_services = unbound()
        else:  # no hook ran (should not happen): the default caller is anonymous
            bound = current_app.extensions["fhir"]
    return bound
