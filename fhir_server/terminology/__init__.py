"""Terminology service (pure Python, no Flask, no database) over the terminology/ folder.

Public API: TerminologyService (lookup, validate_code, expand, translate), get_service() and
module-level shortcuts over it, and the *_parameters converters to FHIR Parameters resources.
Results are plain dicts: lookup -> {name, system, code, display, version?, definition?,
designation: [FHIR designation], property: [{code, value: {valueX: v}}]}; validate_code ->
{result, code, system?, version?, display?, message?}; expand -> the ValueSet with .expansion;
translate -> {result, message?, match: [{equivalence, concept?: Coding, source, comment?}]}.
Errors: NotFound (unknown system/value set/map/version), InvalidRequest (bad arguments).
"""

from .parameters import (
    expand_parameters,
    lookup_parameters,
    translate_parameters,
    validate_code_parameters,
)
from .service import TerminologyService, expand, get_service, lookup, translate, validate_code
from .text import fold

__all__ = ["TerminologyService", "expand", "expand_parameters", "fold", "get_service", "lookup",
           "lookup_parameters", "translate", "translate_parameters", "validate_code",
           "validate_code_parameters"]
