"""pymongo command listener feeding the database latency metric (issue 16 point 2): the
command name only, never its content."""

from __future__ import annotations

from pymongo import monitoring

from fhir_server.metrics import observe_db_command


class CommandTimer(monitoring.CommandListener):
    """Each command's latency by command name."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Nothing to do: the succeeded/failed events carry the duration."""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Observe a command that succeeded."""
        observe_db_command(event.command_name, True, event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Observe a command that failed."""
        observe_db_command(event.command_name, False, event.duration_micros / 1e6)
