"""What the TestScript runner records: one HTTP exchange, one action's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"


class Unsupported(Exception):
    """Something this runner or this server set-up cannot do (the action is skipped)."""


@dataclass
class Exchange:
    """One request the runner sent and the answer it got (R4 testscript.html: "test engines
    are to store the request and response body and headers of the last operation")."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or XML read by testscript_paths.xml_to_json
    body_is_json: bool = True
    xml_as_json: bool = False  # the script asked for XML; the server has none, JSON was sent

    def header(self, name: str, request: bool = False) -> str | None:
        """A response (or request) header by case-insensitive name."""
        headers = self.request_headers if request else self.headers
        wanted = name.lower()
        return next((value for key, value in headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class Outcome:
    """The result of one assert, or of an action the runner skipped."""

    key: str  # the assert's label, else e.g. "setup[3]" or "test[0][5]"
    description: str
    status: str  # PASSED, FAILED, WARNING (a failed warningOnly assert) or SKIPPED
    detail: str = ""


@dataclass
class Report:
    """All the outcomes of one TestScript run."""

    script_id: str
    outcomes: list[Outcome] = field(default_factory=list)

    def keys(self, status: str) -> set[str]:
        """The keys of the outcomes with this status."""
        return {outcome.key for outcome in self.outcomes if outcome.status == status}

    def count(self, status: str) -> int:
        """How many outcomes have this status."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)
