"""A small TestScript engine for the test suite (R4 testscript.html), driving a Flask test client.

It interprets `fixture` (autocreate/autodelete), `variable` (path/expression/headerField with
sourceId, defaultValue, or a value given by the caller for variables that only carry a `hint`),
`setup`, `test` and `teardown`, the RESTful `operation`s (type code, resource, params, url,
targetId, sourceId, accept/contentType, requestHeader, responseId/requestId, encodeRequestUrl)
and the `assert`s of testscript_asserts. `${name}` is replaced in params, url, values and headers.

Choices where R4 leaves it to the engine (each visible in the outcomes):
- one server under test: an operation for `destination` other than 1 is skipped, with its asserts;
- formats: XML is used only when the server answers `GET /metadata?_format=xml` with XML; else an
  operation asking for XML is sent as JSON and the asserts about XML itself are skipped. Request
  bodies are always JSON (the runner has no XML writer).
- an `update` puts the URL's id into the fixture body it sends (R4 http.html#update requires the
  body id to equal the URL id; the spec's scripts PUT the fixture `Patient/pat1` to
  `Patient/${createResourceId}`, meaning "new content for that resource").
- a failed (not warningOnly) setup assert stops the script: its tests are skipped, teardown runs;
  except the asserts the caller names as known failures (`run(script, tolerated)`), which are
  reported as failed but do not stop it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from flask.testing import FlaskClient

from tests.conformance.testscript_asserts import check
from tests.conformance.testscript_model import (
    FAILED,
    PASSED,
    SKIPPED,
    WARNING,
    Exchange,
    Outcome,
    Report,
    Unsupported,
)
from tests.conformance.testscript_paths import evaluate, first_text, xml_to_json

# R4 codesystem-testscript-operation-codes.html: the RESTful ones this runner sends
METHODS = {"read": "GET", "vread": "GET", "search": "GET", "history": "GET",
           "capabilities": "GET", "create": "POST", "update": "PUT", "updateCreate": "PUT",
           "delete": "DELETE", "patch": "PATCH", "transaction": "POST", "batch": "POST"}
MIME = {"json": "application/fhir+json", "xml": "application/fhir+xml"}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class TestScriptRunner:
    """Runs TestScripts against one server through a Flask test client."""

    __test__ = False  # not a pytest test class

    def __init__(self, client: FlaskClient, load_fixture: Callable[[str], dict[str, Any]],
                 headers: dict[str, str], base_url: str,
                 inputs: dict[str, str] | None = None) -> None:
        """`headers` go with every request (authorization); `inputs` set hint-only variables."""
        self.client, self.load_fixture, self.base_url = client, load_fixture, base_url
        self.headers, self.inputs = headers, inputs or {}
        self.xml = self._xml_supported()
        self._fixtures: dict[str, dict[str, Any]] = {}
        self._exchanges: dict[str, Exchange] = {}
        self._variables: dict[str, dict[str, Any]] = {}
        self._profiles: dict[str, str] = {}
        self._last: Exchange | None = None
        self._tolerated: frozenset[str] = frozenset()
        self._created: dict[str, dict[str, Any]] = {}  # autocreated fixtures as stored

    def _xml_supported(self) -> bool:
        """True when the server answers a request for XML with XML."""
        answer = self.client.get("/metadata?_format=xml", headers=self.headers)
        return answer.status_code == 200 and "xml" in (answer.content_type or "")

    def run(self, script: dict[str, Any], tolerated: frozenset[str] = frozenset()) -> Report:
        """Run setup, each test and teardown; one Outcome per assert or skipped action."""
        report = Report(script["id"])
        self._tolerated = tolerated
        self._fixtures = {f["id"]: self.load_fixture(f["resource"]["reference"])
                          for f in script.get("fixture", []) if "resource" in f}
        self._variables = {v["name"]: v for v in script.get("variable", [])}
        self._profiles = {p["id"]: p["reference"] for p in script.get("profile", [])}
        self._exchanges, self._last = {}, None
        self._created = {}
        for index, fixture in enumerate(script.get("fixture", [])):
            if fixture.get("autocreate"):
                code = "update" if "id" in self._fixtures[fixture["id"]] else "create"
                created = self._auto(f"fixture[{index}]", code, fixture, report)
                if isinstance(created, dict) and "id" in created:
                    self._created[fixture["id"]] = created
        ready = self._section("setup", script.get("setup", {}).get("action", []), report)
        for index, test in enumerate(script.get("test", [])):
            if ready:
                self._section(f"test[{index}]", test.get("action", []), report)
            else:
                self._skip(f"test[{index}]", test.get("action", []), "setup failed", report)
        self._section("teardown", script.get("teardown", {}).get("action", []), report)
        for index, fixture in enumerate(script.get("fixture", [])):
            if fixture.get("autodelete"):
                self._auto(f"fixture[{index}].delete", "delete", fixture, report)
        return report

    def _auto(self, key: str, code: str, fixture: dict[str, Any], report: Report) -> Any:
        """Autocreate (update with its id, else create) or autodelete a fixture; an answer
        other than 2xx is a failed outcome. Returns the answer's body."""
        ids = {"targetId": fixture["id"]} if code != "create" else {}
        if code != "delete":
            ids["sourceId"] = fixture["id"]
        description = f"auto{code} of fixture {fixture['id']}"
        self._last = None
        self._section(key, [{"operation": {"type": {"code": code}, **ids, "accept": "json",
                                           "contentType": "json", "encodeRequestUrl": True,
                                           "description": description}}], report)
        if self._last is not None and not 200 <= self._last.status < 300:
            report.outcomes.append(Outcome(key, description, FAILED,
                                           f"status {self._last.status}"))
        return self._last.body if self._last is not None else None

    def _section(self, prefix: str, actions: list[dict[str, Any]], report: Report) -> bool:
        """Run actions in order; False when a (not warningOnly) assert failed."""
        ok, skip_reason = True, None
        for index, action in enumerate(actions):
            key = f"{prefix}[{index}]"
            if "operation" in action:
                operation = action["operation"]
                try:
                    self._operate(operation)
                    skip_reason = None
                except Unsupported as exc:
                    skip_reason = f"operation skipped: {exc}"
                    report.outcomes.append(Outcome(key, operation.get("description", ""),
                                                   SKIPPED, str(exc)))
                continue
            assertion = action.get("assert", {})
            key = assertion.get("label", key)
            description = assertion.get("description", "")
            if skip_reason is not None:
                report.outcomes.append(Outcome(key, description, SKIPPED, skip_reason))
                continue
            try:
                holds, seen = check(assertion, self)
            except Unsupported as exc:
                report.outcomes.append(Outcome(key, description, SKIPPED, str(exc)))
                continue
            status = PASSED if holds else WARNING if assertion.get("warningOnly") else FAILED
            ok = ok and (status != FAILED or key in self._tolerated)
            report.outcomes.append(Outcome(key, description, status, seen))
        return ok

    @staticmethod
    def _skip(prefix: str, actions: list[dict[str, Any]], reason: str, report: Report) -> None:
        """Record every assert of a section as skipped."""
        for index, action in enumerate(actions):
            if "assert" in action:
                report.outcomes.append(Outcome(action["assert"].get("label", f"{prefix}[{index}]"),
                                               action["assert"].get("description", ""),
                                               SKIPPED, reason))

    def _operate(self, operation: dict[str, Any]) -> None:
        """Send one operation and keep its exchange (as the last, and under responseId)."""
        code = operation.get("type", {}).get("code", "")
        if operation.get("destination", 1) != 1:
            raise Unsupported(f"destination {operation['destination']}: one server under test")
        if code not in METHODS:
            raise Unsupported(f"operation type {code!r}")
        url = self._url(operation, code)
        if operation.get("encodeRequestUrl", True):
            url = _encoded(url)
        headers = dict(self.headers)
        xml_as_json = False
        if "accept" in operation:
            wanted = operation["accept"]
            xml_as_json = wanted == "xml" and not self.xml
            headers["Accept"] = MIME["json" if xml_as_json else wanted]
        body = self._request_body(operation, code, url)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = MIME["json"]
            xml_as_json = xml_as_json or (operation.get("contentType") == "xml" and not self.xml)
        for header in operation.get("requestHeader", []):
            headers[header["field"]] = self.substitute(header["value"])
        answer = self.client.open(url, method=METHODS[code], headers=headers, data=data)
        content_type = answer.content_type or ""
        parsed: Any = None
        if answer.data and "json" in content_type:
            parsed = json.loads(answer.data)
        elif answer.data and "xml" in content_type:
            parsed = xml_to_json(answer.data)
        exchange = Exchange(METHODS[code], url, headers, body, answer.status_code,
                            {k.lower(): v for k, v in answer.headers.items()}, parsed,
                            "xml" not in content_type, xml_as_json)
        self._last = exchange
        for key in ("responseId", "requestId"):
            if key in operation:
                self._exchanges[operation[key]] = exchange

    def _url(self, operation: dict[str, Any], code: str) -> str:
        """The request path: from url, else resource + params, else the target fixture."""
        if "url" in operation:
            url = self.substitute(operation["url"])
            return "/" + url.removeprefix(self.base_url).lstrip("/")
        resource = operation.get("resource", "")
        if "params" in operation:
            return f"/{resource}{self.substitute(operation['params'])}".replace("//", "/")
        if "targetId" in operation:
            kind, rid, version = self._target(operation["targetId"])
            tails = {"vread": f"/_history/{version}", "history": "/_history"}
            return f"/{kind}/{rid}{tails.get(code, '')}"
        if code == "create" and "sourceId" in operation:
            resource = resource or self.body(operation["sourceId"]).get("resourceType", "")
        tails = {"capabilities": "/metadata", "history": f"/{resource}/_history".replace(
            "//", "/"), "transaction": "/", "batch": "/"}
        return tails.get(code, f"/{resource}")

    def _target(self, target_id: str) -> tuple[str, str, str]:
        """The [type], [id] and [vid] of a fixture or a stored response (targetId)."""
        body = self._created.get(target_id) or self.body(target_id)
        if not isinstance(body, dict) or "id" not in body:
            raise Unsupported(f"targetId {target_id}: no resource with an id")
        return body["resourceType"], body["id"], str(body.get("meta", {}).get("versionId", ""))

    def _request_body(self, operation: dict[str, Any], code: str, url: str) -> Any:
        """The fixture sent as body (sourceId); an update's body gets the URL's id."""
        if code not in ("create", "update", "updateCreate", "patch", "transaction", "batch"):
            return None
        if "sourceId" not in operation:
            raise Unsupported(f"{code} without a sourceId")
        body = copy.deepcopy(self.body(operation["sourceId"]))
        if code in ("update", "updateCreate") and isinstance(body, dict):
            body["id"] = unquote(url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
        return body

    # the Context of testscript_asserts

    def exchange(self, source_id: str | None) -> Exchange:
        """The last exchange, or the one kept under a responseId/requestId (KeyError if none)."""
        if source_id is not None:
            return self._exchanges[source_id]
        if self._last is None:
            raise Unsupported("assert before any operation")
        return self._last

    def body(self, source_id: str | None, request: bool = False) -> Any:
        """A fixture's resource, a stored exchange's body, or the last exchange's body."""
        if source_id is not None and source_id in self._fixtures:
            return self._fixtures[source_id]
        exchange = self.exchange(source_id)
        return exchange.request_body if request else exchange.body

    def profile(self, profile_id: str) -> str:
        """The canonical URL of one of the script's profiles."""
        return self._profiles[profile_id]

    def substitute(self, text: str) -> str:
        """Replace each ${name} with the variable's value."""
        return _VARIABLE.sub(lambda match: self.variable(match[1]), text)

    def variable(self, name: str) -> str:
        """A variable's value, evaluated now (R4: against its sourceId, else the last response)."""
        if name in self.inputs:
            return self.inputs[name]
        definition = self._variables.get(name)
        if definition is None:
            raise Unsupported(f"undefined variable {name}")
        value: str | None = None
        source = definition.get("sourceId")
        if "headerField" in definition:
            value = self.exchange(source).header(definition["headerField"])
        elif "expression" in definition or "path" in definition:
            value = first_text(evaluate(self.body(source), definition.get("expression"),
                                        definition.get("path")))
        if value in (None, ""):
            value = definition.get("defaultValue")
        if value is None:
            raise Unsupported(f"variable {name} has no value (hint {definition.get('hint')!r})")
        return value


def _encoded(url: str) -> str:
    """The URL with its path and query values percent-encoded (encodeRequestUrl)."""
    path, _, query = url.partition("?")
    path = quote(unquote(path), safe="/$")
    if not query:
        return path
    return path + "?" + urlencode(parse_qsl(query, keep_blank_values=True))
