"""Compile spec/model_rules.json into per-model rules and primitive checks for fast_check.py.

Each primitive check answers True only for values fhir.resources certainly accepts and
validation/json_types.py finds nothing wrong with (no control characters, at most MAX_STRING
characters, a narrative div that is FHIR XHTML); a False means "not sure" (the reference path
then decides). Where fhir_core matches with Python's re (decimal, date, dateTime, instant,
time) or with ASCII-only patterns (id, oid), the checks use its own patterns from the data
file. Its string and code patterns run in pydantic-core's Rust regex engine, whose \\s is not
Python's, so those checks accept a safe subset (letters, digits, visible ASCII and spaces);
calendar dates are checked as pydantic's parser does; leap seconds, uuid, empty strings and
anything unusual are left to the reference.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir_server import spec
from fhir_server.model.decimals import Decimal
from fhir_server.validation.json_types import MAX_STRING
from fhir_server.validation.narrative import check_div

Check = Callable[[Any], bool]
ANY_RESOURCE = "Resource"
ABSTRACT = frozenset({"Resource", "DomainResource"})  # resource.html: no instances of these

_TEXT = r"[^\x00-\x08\x0b\x0c\x0e-\x1f]"  # no control character (json_types.py)
_PLAIN = re.compile(_TEXT + "+").fullmatch
# A letter or digit (\w) or a visible ASCII char: never Unicode White_Space (Rust's \s)
_SOLID = r"[!-~\w]"
# string: no control character, and one char the Rust pattern [ \r\n\t\S] surely matches
_STRING = re.compile(_TEXT + r"*[\t\n\r -~\w]" + _TEXT + "*").fullmatch
_CODE = re.compile(f"{_SOLID}+(?: {_SOLID}+)*").fullmatch  # ^[^\s]+(\s[^\s]+)*$
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?").fullmatch
_URL_ABSOLUTE = re.compile(  # what the url crate surely parses (pydantic AnyUrl)
    r"https?://[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*(?::[1-9][0-9]{0,3})?"
    r"(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?"
    r"(?:#[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?").fullmatch
_URL_RELATIVE = re.compile(r"/?[A-Za-z0-9\-.#]+(?![^\s?/])").match  # fhir_core Url's fallback


@dataclass(eq=False, slots=True)
class ModelRules:
    """What one model accepts: JSON name -> (primitive check, repeats, child model or
    ANY_RESOURCE: then the check is unused), required names, choice groups."""

    name: str
    fields: dict[str, tuple[Check, bool, ModelRules | str | None]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    choices: tuple[frozenset[str], ...] = ()  # at most one member present
    required_choices: tuple[frozenset[str], ...] = ()  # exactly one member present
    choice_names: frozenset[str] = frozenset()
    any_of: frozenset[str] = frozenset()  # at least one present (FHIRPrimitiveExtension)
    is_resource: bool = False


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Every model's rules by name, the resource models among them."""

    models: dict[str, ModelRules]
    resources: dict[str, ModelRules]


def _ranged(low: int, high: int) -> Check:
    """An integer check (JSON number without fraction, within fhir_core's range)."""
    return lambda value: type(value) is int and low <= value <= high


def _real_day(text: str) -> bool:
    """True when YYYY-MM-DD... names a day of the calendar (pydantic's date parser)."""
    day = int(text[8:10])
    return day <= 28 or day <= calendar.monthrange(int(text[:4]), int(text[5:7]))[1]


def _dated(pattern: str, full_date: bool) -> Check:
    """A date, dateTime or instant check: fhir_core's pattern, a real day, no leap second."""
    match = re.compile(pattern).fullmatch

    def check(value: Any) -> bool:
        if type(value) is not str or match(value) is None:
            return False
        if len(value) >= 10 and not _real_day(value):
            return False
        return not (full_date and ":60" in value)

    return check


def _patterned(pattern: str, max_length: int = MAX_STRING) -> Check:
    """A string check by one of fhir_core's ASCII patterns (id, oid, time)."""
    match = re.compile(pattern).fullmatch
    return lambda value: (type(value) is str and len(value) <= max_length
                          and match(value) is not None)


def _text(match: Callable[[str], Any]) -> Check:
    """A string check: match and at most MAX_STRING characters."""
    return lambda value: (type(value) is str and len(value) <= MAX_STRING
                          and match(value) is not None)


def _url(as_is: frozenset[str]) -> Check:
    """fhir_core's url: a FHIR type name as is, an http(s) URL, or its relative-path fallback."""
    def check(value: Any) -> bool:
        if type(value) is not str or _PLAIN(value) is None or len(value) > MAX_STRING:
            return False
        return (value in as_is or _URL_ABSOLUTE(value) is not None
                or _URL_RELATIVE(value) is not None)

    return check


def _xhtml(value: Any) -> bool:
    """A narrative div: a string that narrative.check_div accepts."""
    return type(value) is str and _PLAIN(value) is not None and not check_div(value, "div")


def _primitive_checks(primitives: dict[str, Any]) -> dict[str, Check]:
    """FHIR primitive type -> its check."""
    patterns = primitives["patterns"]
    decimal = re.compile(patterns["decimal"]).fullmatch
    url_as_is = frozenset(primitives["urlAsIs"])
    time = _patterned(patterns["time"])
    checks: dict[str, Check] = {
        name: _ranged(low, high) for name, (low, high) in primitives["ranges"].items()}
    checks.update({
        "boolean": lambda value: type(value) is bool,
        "decimal": lambda value: type(value) is int or (
            type(value) in (float, Decimal) and decimal(str(value)) is not None),
        "string": _text(_STRING),
        "code": _text(_CODE),
        "id": _patterned(patterns["id"], primitives["idMaxLength"]),
        "oid": _patterned(patterns["oid"]),
        "base64Binary": lambda value: type(value) is str and _BASE64(value) is not None,
        "url": _url(url_as_is),
        "xhtml": _xhtml,
        "date": _dated(patterns["date"], False),
        "dateTime": _dated(patterns["dateTime"], True),
        "instant": _dated(patterns["instant"], True),
        "time": lambda value: time(value) and value[6:8] != "60",
        "uuid": lambda value: False,  # pydantic's UUID4 parsing: left to the reference
    })
    for name in ("uri", "canonical", "markdown"):  # fhir_core's patterns match any text
        checks[name] = _text(_PLAIN)
    return checks


def _never(value: Any) -> bool:
    """The check of complex fields (never called: the walker follows their child rules)."""
    return False


def compile_rules(data: dict[str, Any]) -> CompiledRules:
    """Link the data file's models into rules."""
    primitives = _primitive_checks(data["primitives"])
    models = {name: ModelRules(name) for name in data["models"]}
    for name, entry in data["models"].items():
        rules = models[name]
        for key, (kind, repeats) in entry["fields"].items():
            if kind == ANY_RESOURCE:
                rules.fields[key] = (_never, bool(repeats), ANY_RESOURCE)
            elif kind in models:
                rules.fields[key] = (_never, bool(repeats), models[kind])
            else:
                rules.fields[key] = (primitives[kind], bool(repeats), None)
        rules.required = frozenset(entry.get("required", ()))
        rules.choices = tuple(frozenset(group) for group in entry.get("choices", ()))
        rules.required_choices = tuple(
            frozenset(group) for group in entry.get("requiredChoices", ()))
        rules.choice_names = frozenset().union(*rules.choices)
        rules.any_of = frozenset(entry.get("anyOf", ()))
        rules.is_resource = bool(entry.get("resource"))
        if rules.is_resource:
            rules.fields["resourceType"] = (primitives["string"], False, None)  # on dispatch
    resources = {name: rules for name, rules in models.items()
                 if rules.is_resource and name not in ABSTRACT}
    return CompiledRules(models, resources)


def model_rules_data() -> dict[str, Any]:
    """The parsed spec/model_rules.json (shared: don't mutate)."""
    return spec.model_rules()
