"""FHIR XML in and out (FHIR R4 xml.html), without fhir.resources' XML support.

`parse_xml` turns a FHIR XML document into the same JSON dict `jsonio.loads` gives for the
JSON form, so everything downstream (validation, storage, search) is unchanged; `dump_xml`
writes a resource dict as FHIR XML. Both follow the element order and kinds generated into
spec/xml_elements.json from the R4 StructureDefinitions.
"""

from __future__ import annotations

from fhir_server.model.xml_read import parse_xml
from fhir_server.model.xml_write import dump_xml

__all__ = ["dump_xml", "parse_xml"]
