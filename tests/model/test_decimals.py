"""JSON decimals keep their lexical form (FHIR R4 datatypes.html#decimal, json.html#primitive)."""

from __future__ import annotations

import copy
import pickle

from fhir_server.model.decimals import Decimal
from fhir_server.model.jsonio import dumps, loads


def test_decimals_round_trip_verbatim() -> None:
    """datatypes.html#decimal: "the precision of the decimal value has significance", so 0.50
    is written back as 0.50 and -83.694710 as -83.694710 (not 0.5 / -83.69471); integers stay
    integers."""
    text = b'{"a":0.50,"b":[-83.694710,1e2,1E-7,3,-0.0,100.00],"c":{"d":12345678901234567890}}'
    parsed = loads(text)
    assert dumps(parsed) == text
    assert parsed["a"] == 0.5 and isinstance(parsed["a"], float)
    assert isinstance(parsed["a"], Decimal) and parsed["a"].text == "0.50"
    assert type(parsed["b"][3]) is int and type(parsed["c"]["d"]) is int
    assert b'"a": 0.50' in dumps(parsed, pretty=True)


def test_decimals_copy_and_pickle_keep_text() -> None:
    """A copied or pickled resource keeps its decimals' text (JSON Patch works on a deep copy)."""
    parsed = loads(b'{"v":[0.50,2.000]}')
    assert dumps(copy.deepcopy(parsed)) == b'{"v":[0.50,2.000]}'
    assert dumps(pickle.loads(pickle.dumps(parsed))) == b'{"v":[0.50,2.000]}'


def test_decimals_act_as_numbers() -> None:
    """Search and validation see numbers: a Decimal compares and computes as its float."""
    value = Decimal("0.50")
    assert value == 0.5 and value + 1 == 1.5 and value < 0.51 and str(value) == "0.5"
