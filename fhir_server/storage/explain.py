"""The query plans of the server's own commands (docs/deploy.md, issue 16 point 1): a command
listener records what the storage code sends while an operation runs, then each read or write
is sent again wrapped in `explain`. Used by docs/scripts/explain_hot_queries.py; never by the
app (register the recorder before any client is created: pymongo attaches listeners then).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import monitoring
from pymongo.database import Database

EXPLAINED = ("find", "aggregate", "count", "distinct", "findAndModify", "update", "delete")
# session, transaction and cluster fields the driver adds: explain takes none of them
DRIVER_FIELDS = ("lsid", "txnNumber", "$clusterTime", "$db", "startTransaction", "autocommit",
                 "readConcern", "writeConcern", "$readPreference", "cursor", "batchSize",
                 "singleBatch", "maxTimeMS", "ordered", "bypassDocumentValidation")
NOISE = ("$clusterTime", "operationTime", "serverInfo", "ok", "command", "serverParameters")


class CommandRecorder(monitoring.CommandListener):
    """Keeps a copy of each explainable command sent while `recording` is open."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, dict[str, Any]]] | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Copy the command when recording (the database name with it)."""
        if self.commands is not None and event.command_name in EXPLAINED:
            self.commands.append((event.database_name, copy.deepcopy(dict(event.command))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to do."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to do."""

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """Record the commands of the enclosed block (the list fills as they are sent)."""
        found: list[tuple[str, dict[str, Any]]] = []
        self.commands = found
        try:
            yield found
        finally:
            self.commands = None


def install_recorder() -> CommandRecorder:
    """A recorder registered for every client created from now on."""
    recorder = CommandRecorder()
    monitoring.register(recorder)
    return recorder


def explainable(command: dict[str, Any]) -> dict[str, Any]:
    """The read to explain for a recorded command, without the driver's session fields: a
    write becomes the `find` of its filter (the plan that locates what it changes; explain of
    a write never writes, and SecantusDB's explain of `update` ignores the filter)."""
    plain = {key: value for key, value in command.items() if key not in DRIVER_FIELDS}
    name = next(iter(plain))
    if name == "findAndModify":
        return {"find": plain[name], "filter": plain.get("query") or {},
                **({"sort": plain["sort"]} if plain.get("sort") else {}), "limit": 1}
    if name in ("update", "delete"):
        first = plain["updates" if name == "update" else "deletes"][0]
        single = not first.get("multi") if name == "update" else first.get("limit") == 1
        return {"find": plain[name], "filter": first.get("q") or {},
                **({"limit": 1} if single else {})}
    if name == "aggregate":
        plain["cursor"] = {}
    return plain


def explain(db: Database[Any], command: dict[str, Any]) -> dict[str, Any]:
    """The server's explain (executionStats) of one recorded command, without cluster noise."""
    answer = db.command("explain", explainable(command), verbosity="executionStats")
    return {key: value for key, value in answer.items() if key not in NOISE}
