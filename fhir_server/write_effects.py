"""After-write effects: what the system does once a write of a type has been stored.

A write rule (write_rules.py) runs *before* a write and may refuse it; an effect runs *after*
it, whatever the door (REST, bundle entry, operation), with the stored version and the content
before it: a dose recorded at a site texts the person and proposes the next dose
(fhir_server/vaccination/outreach.py). Effects act as the server through the services of the
request and must be idempotent (keyed by their event); one that fails is logged and does not
undo the write it follows (the write is the record; the effect can be replayed).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fhir_server.interactions.context import Services
    from fhir_server.storage.base import StoredVersion

log = logging.getLogger(__name__)
EFFECT_MODULES = ("fhir_server.vaccination.outreach",  # each calls add_effect on import
                  "fhir_server.vaccination.red_flag_sms",
                  "fhir_server.vaccination.appointment_notices",
                  "fhir_server.analytics.effects")
Effect = Callable[["Services", "StoredVersion", "Mapping[str, Any] | None"], None]
_EFFECTS: dict[str, list[Effect]] = {}
_ON_DELETE: list[Effect] = []  # the effects that also run after a delete (tombstone version)
ManyEffect = Callable[["Services", "Sequence[StoredVersion]"], None]
_MANY: dict[Effect, ManyEffect] = {}  # an effect's form for many new resources at once
_loaded: list[bool] = []


def add_effect(type_name: str, effect: Effect, deletes: bool = False,
               many: ManyEffect | None = None) -> None:
    """Register an effect run after every stored create or update of this type (and delete,
    with the tombstone version and the content before it, when `deletes`; `many`: the same
    effect for a batch of created resources, run once by create_many)."""
    _EFFECTS.setdefault(type_name, []).append(effect)
    if deletes:
        _ON_DELETE.append(effect)
    if many is not None:
        _MANY[effect] = many


def effects(type_name: str) -> list[Effect]:
    """The effects registered for a type (the effect modules are imported on first use)."""
    if not _loaded:
        _loaded.append(True)
        for name in EFFECT_MODULES:
            importlib.import_module(name)
    return _EFFECTS.get(type_name, [])


def run_effects(services: Services | None, version: StoredVersion,
                before: Mapping[str, Any] | None) -> None:
    """Run the effects of one stored version (none without services: storage-level work)."""
    if services is None:
        return
    for effect in effects(version.type):
        if version.deleted and effect not in _ON_DELETE:
            continue
        _run(effect, services, version, before)


def _run(effect: Effect, services: Services, version: StoredVersion,
         before: Mapping[str, Any] | None) -> None:
    try:
        effect(services, version, before)
    except Exception:  # noqa: BLE001 - the write stands; the effect is logged for replay
        log.exception("effect %s after %s/%s failed", getattr(effect, "__name__", effect),
                      version.type, version.id)


def run_many_effects(services: Services | None, versions: Sequence[StoredVersion]) -> None:
    """Run the effects of newly created versions of one type: an effect with a batch form
    once for all of them, the others version by version."""
    if services is None or not versions:
        return
    for effect in effects(versions[0].type):
        batch = _MANY.get(effect)
        if batch is None:
            for version in versions:
                _run(effect, services, version, None)
            continue
        try:
            batch(services, versions)
        except Exception:  # noqa: BLE001 - the writes stand; the effect is logged for replay
            log.exception("effect %s after %d %s failed", getattr(batch, "__name__", batch),
                          len(versions), versions[0].type)
