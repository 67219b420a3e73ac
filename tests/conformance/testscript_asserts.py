"""The TestScript `assert` action (R4 testscript.html#assert): one check of the last (or a
named) request/response, or of a fixture.

A check raises Unsupported when it cannot be decided here (an XML-only check on a request the
runner had to send as JSON, a profile that is not a base resource profile): it is then skipped
with that reason, never counted as passed.
"""

from __future__ import annotations

from typing import Any, Protocol

from fhir_server.errors import InvalidRequest
from fhir_server.model.parse import validate_resource
from tests.conformance.testscript_model import Exchange, Unsupported
from tests.conformance.testscript_paths import compare, contains_minimum, evaluate, first_text

# R4 valueset-assert-response-code-types.html
RESPONSES = {"okay": 200, "created": 201, "noContent": 204, "notModified": 304, "bad": 400,
             "forbidden": 403, "notFound": 404, "methodNotAllowed": 405, "conflict": 409,
             "gone": 410, "preconditionFailed": 412, "unprocessable": 422}
# R4 valueset-content-type (TestScript's mime-type codes) -> what the Content-Type holds
FORMATS = {"json": "json", "xml": "xml", "ttl": "turtle"}
BASE_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
NO_XML = "XML: the server answers _format=xml with 406 (JSON only); the request went as JSON"
NAVIGATION = ("first", "last", "next")  # "Asserts that the Bundle contains first, last, next"


class Context(Protocol):
    """What an assert reads from the running script."""

    def exchange(self, source_id: str | None) -> Exchange:
        """The last exchange, or the one stored under a responseId/requestId."""
        ...

    def body(self, source_id: str | None, request: bool = False) -> Any:
        """A fixture's resource, a stored response's body, or the last response's body."""
        ...

    def profile(self, profile_id: str) -> str:
        """The canonical URL of one of the script's `profile`s."""
        ...

    def substitute(self, text: str) -> str:
        """The text with its ${variables} replaced."""
        ...


def check(assertion: dict[str, Any], ctx: Context) -> tuple[bool, str]:
    """Evaluate one assert: (holds, what was seen)."""
    operator = assertion.get("operator", "equals")
    request = assertion.get("direction") == "request"
    source = assertion.get("sourceId")
    exchange = ctx.exchange(source if source and _is_exchange(ctx, source) else None)
    if "response" in assertion:
        expected = str(RESPONSES[assertion["response"]])
        return compare(operator, str(exchange.status), expected), f"status {exchange.status}"
    if "responseCode" in assertion:
        return (compare(operator, str(exchange.status), assertion["responseCode"]),
                f"status {exchange.status}")
    if "requestMethod" in assertion:
        return (compare(operator, exchange.method.lower(), assertion["requestMethod"].lower()),
                exchange.method)
    if "requestURL" in assertion:
        expected = ctx.substitute(assertion["requestURL"])
        return compare(operator, exchange.url, expected), exchange.url
    if "contentType" in assertion:
        return _content_type(assertion, exchange, operator, request)
    if "headerField" in assertion:
        return _header(assertion, exchange, operator, request, ctx)
    body = ctx.body(source, request)
    if "resource" in assertion:
        kind = body.get("resourceType") if isinstance(body, dict) else None
        return compare(operator, kind, assertion["resource"]), f"resourceType {kind}"
    if "validateProfileId" in assertion:
        return _profile(ctx.profile(assertion["validateProfileId"]), body, exchange)
    if "minimumId" in assertion:
        minimum = ctx.body(assertion["minimumId"])
        return contains_minimum(body, minimum), "compared with " + assertion["minimumId"]
    if assertion.get("navigationLinks") is not None:
        return _navigation(body, bool(assertion["navigationLinks"]))
    if "compareToSourceId" in assertion:
        return _compare_to_source(assertion, body, operator, ctx)
    if "expression" in assertion or "path" in assertion:
        return _path(assertion, body, operator, ctx)
    raise Unsupported("assert with no check this runner knows: " + ", ".join(sorted(assertion)))


def _is_exchange(ctx: Context, source_id: str) -> bool:
    """True when the id names a stored request/response rather than a static fixture."""
    try:
        ctx.exchange(source_id)
    except KeyError:
        return False
    return True


def _content_type(assertion: dict[str, Any], exchange: Exchange, operator: str,
                  request: bool) -> tuple[bool, str]:
    """contentType: the Content-Type header names the format (xml, json, ttl)."""
    wanted = assertion["contentType"]
    if wanted == "xml" and exchange.xml_as_json:
        raise Unsupported(NO_XML)
    actual = exchange.header("Content-Type", request) or ""
    holds = FORMATS.get(wanted, wanted) in actual
    return (holds if operator != "notEquals" else not holds), f"Content-Type {actual!r}"


def _header(assertion: dict[str, Any], exchange: Exchange, operator: str, request: bool,
            ctx: Context) -> tuple[bool, str]:
    """headerField: a request/response header compared with `value`."""
    name = assertion["headerField"]
    expected = ctx.substitute(assertion["value"]) if "value" in assertion else None
    if (request and exchange.xml_as_json and expected and "xml" in expected
            and name.lower() in ("accept", "content-type")):
        raise Unsupported(NO_XML)
    actual = exchange.header(name, request)
    return compare(operator, actual, expected), f"{name}: {actual!r}"


def _profile(url: str, body: Any, exchange: Exchange) -> tuple[bool, str]:
    """validateProfileId for the base profile of a resource type: valid FHIR R4 of that type
    (the server's own parser: fhir.resources models plus its JSON and structure checks)."""
    if not url.startswith(BASE_PROFILE):
        raise Unsupported(f"profile {url}: only base resource profiles are checked")
    if not exchange.body_is_json:
        raise Unsupported("profile check of an XML body (values read as strings)")
    type_name = url[len(BASE_PROFILE):]
    try:
        validate_resource(body, type_name, stored_only=False)
    except InvalidRequest as exc:
        return False, str(exc)[:300]
    return True, f"valid {type_name}"


def _navigation(body: Any, wanted: bool) -> tuple[bool, str]:
    """navigationLinks: the Bundle has first, last and next links (or, if false, has not)."""
    links = body.get("link", []) if isinstance(body, dict) else []
    relations = sorted({str(link.get("relation")) for link in links if isinstance(link, dict)})
    present = all(relation in relations for relation in NAVIGATION)
    return present == wanted, f"link relations {relations}"


def _compare_to_source(assertion: dict[str, Any], body: Any, operator: str,
                       ctx: Context) -> tuple[bool, str]:
    """compareToSourceId: the same path/expression on the response and on another source."""
    source = ctx.body(assertion["compareToSourceId"])
    expected = first_text(evaluate(source, assertion.get("compareToSourceExpression"),
                                   assertion.get("compareToSourcePath")))
    expression, path = assertion.get("expression"), assertion.get("path")
    if expression is None and path is None:
        expression = assertion.get("compareToSourceExpression")
        path = assertion.get("compareToSourcePath")
    actual = first_text(evaluate(body, expression, path))
    return compare(operator, actual, expected), f"{actual!r} vs {expected!r}"


def _path(assertion: dict[str, Any], body: Any, operator: str,
          ctx: Context) -> tuple[bool, str]:
    """path/expression: compared with `value`, tested for (non-)emptiness, or evaluated."""
    values = evaluate(body, assertion.get("expression"), assertion.get("path"))
    actual = first_text(values)
    if "value" in assertion:
        return compare(operator, actual, ctx.substitute(assertion["value"])), repr(actual)
    if operator in ("empty", "notEmpty"):
        return compare(operator, actual, None), repr(actual)
    if operator in ("eval", "equals"):  # no value: the expression is a boolean condition
        return values == [True], f"evaluates to {values!r}"
    raise Unsupported(f"operator {operator!r} without a value")
