"""FHIR XML <-> the server's JSON dict (FHIR R4 xml.html, json.html): round trips and refusals.

Every official R4 example instance goes JSON -> XML -> JSON unchanged; for a sample, our XML is
compared with what fhir.resources (R4B) writes, so the converter is not only checked against
itself. Malformed, hostile and non-FHIR XML is a 400 InvalidRequest, never a crash.
"""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from lxml import etree

from fhir_server.errors import InvalidRequest
from fhir_server.model.decimals import Decimal
from fhir_server.model.jsonio import loads
from fhir_server.model.xml import dump_xml, parse_xml
from fhir_server.spec.package import ensure_examples_package

# The specification's own definition Bundles (tens of MB: all StructureDefinitions, value sets,
# expansions, search parameters...) are definitions, not instance examples; each of their
# resources is also in the package as a file of its own, which is round-tripped below.
DEFINITION_BUNDLES = {
    "Bundle-resources.json", "Bundle-dataelements.json", "Bundle-valueset-expansions.json",
    "Bundle-valuesets.json", "Bundle-v3-valuesets.json", "Bundle-v2-valuesets.json",
    "Bundle-profiles-others.json", "Bundle-extensions.json", "Bundle-types.json",
    "Bundle-searchParams.json", "Bundle-terminologies.json", "Bundle-conceptmaps.json"}
XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">'


def _same(value: Any) -> Any:
    """A form that tells apart what == would not (True vs 1, Decimal 0.50 vs 0.5)."""
    if isinstance(value, dict):
        return {key: _same(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_same(item) for item in value]
    if isinstance(value, Decimal):
        return ("decimal", value.text)
    return (type(value).__name__, value)


def _c14n(div: str) -> str:
    """Canonical XML of a narrative div (W3C C14N)."""
    return etree.tostring(etree.fromstring(div.encode()), method="c14n").decode()


def _divs_canonical(value: Any) -> Any:
    """The resource with every narrative div in canonical XML form."""
    if isinstance(value, dict):
        return {key: _c14n(item) if key == "div" and isinstance(item, str)
                else _divs_canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_divs_canonical(item) for item in value]
    return value


@pytest.mark.examples
@pytest.mark.parametrize("initial", string.ascii_uppercase)
def test_official_examples_round_trip(initial: str) -> None:
    # R4 xml.html + json.html: the two formats carry the same content, both ways. The div is
    # XHTML markup in XML, so its JSON text may come back in another lexical form (&quot; for ",
    # <br></br> for <br/>): divs are compared in canonical XML (C14N), everything else exactly
    root = ensure_examples_package() / "package"
    checked, failures = 0, []
    for path in sorted(root.glob(f"{initial}*-*.json")):
        if path.name in DEFINITION_BUNDLES:
            continue
        example = loads(path.read_bytes())
        if not isinstance(example, dict) or "resourceType" not in example:
            continue
        xml = dump_xml(example)
        back = parse_xml(xml)
        checked += 1
        if _same(back) != _same(example) and (
                _same(_divs_canonical(back)) != _same(_divs_canonical(example))):
            failures.append(path.name)
        elif dump_xml(back) != xml:  # and XML -> JSON -> XML gives the same bytes
            failures.append(f"{path.name} (XML)")
    assert not failures, failures
    assert checked == len(list(root.glob(f"{initial}*-*.json"))) - len(
        [name for name in DEFINITION_BUNDLES if name.startswith(initial)]), initial


@pytest.mark.examples
def test_examples_cover_the_whole_package() -> None:
    # the round trip above reads every instance file of the package (5294 in 4.0.1)
    root = ensure_examples_package() / "package"
    names = [path.name for path in root.glob("*-*.json") if path.name not in DEFINITION_BUNDLES]
    assert len(names) >= 5290


def _tree(element: Any) -> Any:
    """(tag, attributes, children) of FHIR XML; the div as its text, instants and numbers
    normalised (fhir.resources writes .715Z as .715000Z, +00:00 as Z and the decimal 185 as
    185.0: it keeps neither lexical form, datatypes.html#decimal)."""
    if element.tag == "{http://www.w3.org/1999/xhtml}div":
        return ("div", " ".join("".join(element.itertext()).split()))
    attributes = {key: _instant(value) for key, value in element.attrib.items()}
    return (element.tag, attributes, [_tree(child) for child in element
                                      if isinstance(child.tag, str)])


_INSTANT = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _instant(value: str) -> str:
    """An instant/dateTime with its fraction trimmed of zeros and +00:00 as Z; a number as
    its float."""
    if _NUMBER.fullmatch(value):
        return repr(float(value))
    match = _INSTANT.fullmatch(value)
    if not match:
        return value
    fraction = (match.group(2) or "").rstrip("0").rstrip(".")
    zone = "Z" if match.group(3) in ("Z", "+00:00") else match.group(3)
    return match.group(1) + fraction + zone


@pytest.mark.examples
@pytest.mark.parametrize("file_name", [
    "Patient-example.json", "Observation-example.json", "Immunization-example.json",
    "Organization-hl7.json", "Practitioner-example.json", "Encounter-example.json",
    "Condition-example.json", "AllergyIntolerance-example.json", "Location-1.json",
    "Appointment-example.json", "Observation-bmi.json", "Bundle-bundle-example.json",
])
def test_our_xml_matches_fhir_resources(file_name: str) -> None:
    # an independent writer (fhir.resources R4B model_dump_xml) gives the same element tree
    example = loads((ensure_examples_package() / "package" / file_name).read_bytes())
    ours = etree.fromstring(dump_xml(example))
    model = get_fhir_model_class(example["resourceType"]).model_validate(loads(
        (ensure_examples_package() / "package" / file_name).read_bytes()))
    written = model.model_dump_xml()
    theirs = etree.fromstring(written.encode() if isinstance(written, str) else written)
    assert _tree(ours) == _tree(theirs)


def test_primitives_carry_id_and_extensions() -> None:
    # json.html#primitive: id/extension of a primitive are `_name`; arrays aligned with null
    data = {"resourceType": "Patient", "birthDate": "1970-03-30",
            "_birthDate": {"id": "b1", "extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                 "valueDateTime": "1970-03-30T14:35:45-05:00"}]},
            "name": [{"given": ["Lan", None, "Thi"],
                      "_given": [None, {"extension": [{"url": "u", "valueCode": "x"}]}, None]}]}
    xml = dump_xml(data)
    assert (b'<birthDate id="b1" value="1970-03-30"><extension url="http://hl7.org/fhir/'
            b'StructureDefinition/patient-birthTime"><valueDateTime value="1970-03-30T14:35:45'
            b'-05:00"/></extension></birthDate>') in xml
    assert (b'<given value="Lan"/><given><extension url="u"><valueCode value="x"/>'
            b'</extension></given><given value="Thi"/>') in xml
    assert parse_xml(xml) == data


def test_extension_only_values_leave_out_the_value_array() -> None:
    # json.html#primitive: a repeating primitive with no values is only its `_name` array
    xml = (b'<Patient xmlns="http://hl7.org/fhir"><name><given id="g"/></name></Patient>')
    assert parse_xml(xml) == {"resourceType": "Patient", "name": [{"_given": [{"id": "g"}]}]}


def test_numbers_and_booleans_keep_their_json_type_and_text() -> None:
    # datatypes.html#decimal: precision is significant (0.50 is not 0.5); integers are numbers
    xml = (b'<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code>'
           b'<text value="2.50"/></code><valueQuantity><value value="0.50"/></valueQuantity>'
           b'<component><code><text value="c"/></code><valueInteger value="-7"/></component>'
           b'<component><code><text value="d"/></code><valueBoolean value="true"/>'
           b'</component><component><code><text value="e"/></code><valueQuantity>'
           b'<value value="1.5e3"/></valueQuantity></component></Observation>')
    data = parse_xml(xml)
    value = data["valueQuantity"]["value"]
    assert isinstance(value, Decimal) and value.text == "0.50"
    assert data["code"]["text"] == "2.50"
    assert _same(data["component"][0]["valueInteger"]) == ("int", -7)
    assert data["component"][1]["valueBoolean"] is True
    assert data["component"][2]["valueQuantity"]["value"].text == "1.5e3"
    assert dump_xml(data) == b"<?xml version='1.0' encoding='UTF-8'?>\n" + xml
    assert _same(parse_xml(b'<Observation xmlns="http://hl7.org/fhir"><valueQuantity>'
                           b'<value value="185"/></valueQuantity></Observation>')) == _same(
        loads(b'{"resourceType":"Observation","valueQuantity":{"value":185}}'))


def test_elements_are_written_in_definition_order() -> None:
    # xml.html: "elements must appear in the order defined"; JSON order does not matter
    data = {"gender": "female", "name": [{"given": ["Lan"], "family": "Nguyen"}],
            "id": "p1", "resourceType": "Patient", "active": True}
    assert dump_xml(data).split(b"?>\n", 1)[1] == (
        b'<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><active value="true"/><name>'
        b'<family value="Nguyen"/><given value="Lan"/></name><gender value="female"/>'
        b'</Patient>')


def test_contained_resources_and_narrative() -> None:
    # references.html#contained; narrative.html: the div is XHTML in its own namespace
    data = {"resourceType": "Patient", "id": "p",
            "text": {"status": "generated", "div": f"{XHTML}<p>A &amp; B<br/></p></div>"},
            "contained": [{"resourceType": "Organization", "id": "o", "name": "Clinic"}],
            "managingOrganization": {"reference": "#o"}}
    xml = dump_xml(data)
    assert b'<div xmlns="http://www.w3.org/1999/xhtml"><p>A &amp; B<br/></p></div>' in xml
    assert b'<contained><Organization><id value="o"/><name value="Clinic"/></Organization>' in xml
    assert parse_xml(xml) == data


def test_reader_accepts_what_xml_allows() -> None:
    # xml.html: comments, an xsi:schemaLocation, a prefixed xhtml div, whitespace are not content
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><!-- c --><Patient xmlns="http://hl7.org/fhir"'
           b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x y">\n'
           b'  <!-- note --><id value="p"/>\n  <text><status value="generated"/>'
           b'<h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>Hi</h:p></h:div></text>'
           b'</Patient>')
    assert parse_xml(xml) == {"resourceType": "Patient", "id": "p", "text": {
        "status": "generated", "div": f"{XHTML}<p>Hi</p></div>"}}


ENTITY = b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY x 'boom'>]>"
LAUGHS = (b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY a 'aaaaaaaaaa'>"
          + b"".join(b"<!ENTITY %s '%s'>" % (bytes([98 + i]), b"&%s;" % bytes([97 + i]) * 10)
                     for i in range(8)) + b"]>")


@pytest.mark.parametrize(("body", "expression"), [
    (b"<Patient xmlns='http://hl7.org/fhir'><id value='1'/>", None),  # unclosed
    (b"not xml", None),
    (b"", None),
    (b"<Patient><id value='1'/></Patient>", None),  # no FHIR namespace
    (b"<Nonsense xmlns='http://hl7.org/fhir'/>", "resourceType"),
    (b"<Patient xmlns='http://hl7.org/fhir'><bogus value='x'/></Patient>", "Patient.bogus"),
    (b"<Patient xmlns='http://hl7.org/fhir'><name><family value='a' foo='b'/></name></Patient>",
     "Patient.name.family"),
    (b"<Patient xmlns='http://hl7.org/fhir'><active value='yes'/></Patient>",
     "Patient.active.value"),
    (b"<Patient xmlns='http://hl7.org/fhir'><multipleBirthInteger value='1.5'/></Patient>",
     "Patient.multipleBirthInteger.value"),
    (b"<Patient xmlns='http://hl7.org/fhir'><gender value='a'/><gender value='b'/></Patient>",
     "Patient.gender"),
    (b"<Patient xmlns='http://hl7.org/fhir'><gender>female</gender></Patient>",
     "Patient.gender"),
    (b"<Patient xmlns='http://hl7.org/fhir'><gender/></Patient>", "Patient.gender"),
    (b"<Patient xmlns='http://hl7.org/fhir'><contained/></Patient>", "Patient.contained"),
    (b"<Patient xmlns='http://hl7.org/fhir'><text><div/></text></Patient>", "Patient.text.div"),
    (ENTITY + b"<Patient xmlns='http://hl7.org/fhir'><id value='&x;'/></Patient>", None),
    (b"<?xml version='1.0'?><!DOCTYPE p [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
     b"<Patient xmlns='http://hl7.org/fhir'><name><family value='&x;'/></name></Patient>", None),
    (b"<?xml version='1.0'?><!DOCTYPE p SYSTEM 'http://example.org/evil.dtd'>"
     b"<Patient xmlns='http://hl7.org/fhir'/>", None),
    (LAUGHS + b"<Patient xmlns='http://hl7.org/fhir'><name><family value='&i;'/></name>"
     b"</Patient>", None),
    (b"<Patient xmlns='http://hl7.org/fhir'>" + b"<extension url='u'>" * 300
     + b"</extension>" * 300 + b"</Patient>", None),
])
def test_bad_xml_is_a_400(body: bytes, expression: str | None) -> None:
    # xml.html: FHIR XML has no DTD; http.html: a body that is not a resource is a 400
    with pytest.raises(InvalidRequest) as caught:
        parse_xml(body)
    assert caught.value.status == 400
    issue = caught.value.issues[0]
    assert issue.code in ("structure", "invalid")
    if expression is not None:
        assert issue.expression == (expression,)
    assert b"root:" not in issue.diagnostics.encode()  # no file content leaks


@pytest.mark.parametrize("data", [
    {"resourceType": "Patient", "bogus": 1},
    {"resourceType": "Nonsense"},
    {"resourceType": "Patient", "_name": {}},
    {"resourceType": "Patient", "text": {"status": "generated", "div": "<div>not xhtml</div>"}},
    {"resourceType": "Patient", "text": {"status": "generated", "div": "<div"}},
])
def test_writer_refuses_what_r4_xml_cannot_say(data: dict[str, Any]) -> None:
    # the writer is given stored resources; anything outside R4 is a ValueError, not bad XML
    with pytest.raises(ValueError):
        dump_xml(data)
