"""Records the requests a flow test sends and renders them as Markdown (docs/app-api.md),
with what changes from run to run (ids, tokens, codes, instants, today's date) named instead,
so the document is the test's own transcript and cannot drift from the server."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
HEX = re.compile(r"\b[0-9a-f]{64}\b")  # a card id (a digest)
NUMERIC_QR = re.compile(r"shc:/\d+")
CODE = re.compile(r"(?<=: )\d{6}(?= \()")  # the SMS code in "...: 123456 (hieu luc 5 phut)"
HIDDEN = ("meta", "text")  # resource elements left out of the transcript
SECRETS = frozenset({"registration", "access_token", "refresh_token", "id_token"})


@dataclass
class Step:
    """One request and what the transcript shows of its answer."""

    who: str
    method: str
    path: str
    body: Any
    status: int
    answer: Any
    note: str = ""


@dataclass
class Section:
    """A flow: a title, a sentence and its steps."""

    title: str
    text: str
    steps: list[Step | str] = field(default_factory=list)


class FlowRecorder:
    """A test client that keeps the transcript of each call."""

    def __init__(self, app: Flask, today: date) -> None:
        self.web = app.test_client()
        self.today = today
        self.sections: list[Section] = []
        self.names: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def section(self, title: str, text: str) -> None:
        """Start a flow."""
        self.sections.append(Section(title, text))

    def say(self, text: str) -> None:
        """A sentence between steps (what happened outside HTTP, e.g. an SMS)."""
        self.sections[-1].steps.append(self.scrub_text(text))

    def call(self, who: str, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None, note: str = "") -> TestResponse:
        """Send a request, record it, return the response."""
        response = self.web.open(path, method=method, json=body, headers=headers or {})
        answer = response.get_json(silent=True)
        self._name_ids(answer)
        self.sections[-1].steps.append(Step(who, method, self.scrub_text(path),
                                            self.scrub(body), response.status_code,
                                            self.scrub(_shown(answer)), note))
        return response

    # -- naming what changes ---------------------------------------------------------------
    def _name_ids(self, answer: Any) -> None:
        resources = [answer] if isinstance(answer, dict) else []
        if isinstance(answer, dict) and answer.get("resourceType") == "Bundle":
            resources += [e.get("resource") or {} for e in answer.get("entry", [])]
        for resource in resources:
            kind, rid = resource.get("resourceType"), resource.get("id")
            if isinstance(rid, str) and UUID.fullmatch(rid) and rid not in self.names:
                self.counts[kind] = self.counts.get(kind, 0) + 1
                self.names[rid] = f"{{{kind.lower()}-{self.counts[kind]}}}"

    def name(self, value: str, label: str) -> None:
        """Call a changing value (a registration id, a member's id) by a label."""
        self.names.setdefault(value, f"{{{label}}}")

    def scrub_text(self, text: str) -> str:
        """A string with the changing parts named."""
        for value, label in sorted(self.names.items(), key=lambda item: -len(item[0])):
            text = text.replace(value, label)
        text = JWT.sub("{token}", text)
        text = HEX.sub("{card}", text)
        text = NUMERIC_QR.sub("shc:/{numeric}", text)
        text = CODE.sub("{code}", text)
        text = INSTANT.sub("{instant}", text)
        text = UUID.sub("{uuid}", text)
        for days in range(-30, 120):
            day = self.today + timedelta(days=days)
            label = "{today}" if days == 0 else f"{{today{days:+d}}}"
            text = text.replace(day.isoformat(), label).replace(day.strftime("%d/%m/%Y"), label)
        return text

    def scrub(self, value: Any) -> Any:
        """A JSON value with the changing parts named."""
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            secret = SECRETS | ({"code"} if "registration" in value else set())  # an SMS code
            return {k: f"{{{k}}}" if k in secret and isinstance(v, str) else self.scrub(v)
                    for k, v in value.items()}
        return value

    # -- rendering -------------------------------------------------------------------------
    def render(self) -> str:
        """The transcript as Markdown."""
        lines = ["# The app's flows, as the tests walk them", "",
                 "Generated by `tests/docs/test_app_flows.py` from its own requests and the "
                 "server's answers", "(`FHIR_WRITE_DOCS=1 pytest tests/docs/test_app_flows.py` "
                 "rewrites it; the test fails when", "the server answers otherwise). Values that "
                 "change from run to run are named: `{patient-1}`,", "`{token}`, `{code}`, "
                 "`{instant}`, `{today}`, `{today+56}`. Rules: docs/app-rules.md.", ""]
        for section in self.sections:
            lines += [f"## {section.title}", "", section.text, ""]
            number = 0
            for step in section.steps:
                if isinstance(step, str):
                    lines += [f"> {step}", ""]
                    continue
                number += 1
                note = f" — {step.note}" if step.note else ""
                lines += [f"{number}. **{step.who}**: `{step.method} {step.path}` → "
                          f"**{step.status}**{note}", ""]
                if step.body is not None:
                    lines += ["   ```json", *_json_lines(step.body), "   ```", ""]
                if step.answer is not None:
                    lines += ["   answer:", "", "   ```json", *_json_lines(step.answer),
                              "   ```", ""]
        return "\n".join(lines).rstrip() + "\n"


def _json_lines(value: Any) -> list[str]:
    """Compact JSON: one line per top-level element of an object (or the whole value)."""
    if isinstance(value, dict) and len(json.dumps(value, ensure_ascii=False)) > 96:
        items = [f"   {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                 for k, v in value.items()]
        return ["   {", *(f"{item}," for item in items[:-1]), items[-1], "   }"]
    return ["   " + json.dumps(value, ensure_ascii=False)]


def _shown(answer: Any) -> Any:
    """What the transcript shows of an answer: resources without meta/text, Bundles as their
    total and first entries, token answers as their shape."""
    if not isinstance(answer, dict):
        return answer
    if answer.get("resourceType") == "Bundle":
        shown = {k: answer[k] for k in ("type", "total") if k in answer}
        entries = answer.get("entry", [])
        shown["entry"] = [{"resource": _shown(e.get("resource"))} for e in entries[:3]]
        if len(entries) > 3:
            shown["entry"].append(f"... {len(entries) - 3} more")
        return shown
    return {k: (_shown(v) if isinstance(v, dict) and "resourceType" in v else v)
            for k, v in answer.items() if k not in HIDDEN}
