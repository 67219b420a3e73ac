"""jsonio.loads: strict JSON (RFC 8259) for every request body; json.html: a property once."""

from __future__ import annotations

import pytest

from fhir_server.errors import InvalidRequest
from fhir_server.model.jsonio import loads


def test_valid_json_parses_to_python() -> None:
    # RFC 8259: objects, arrays, numbers, strings, literals; non-ASCII kept
    assert loads(b'{"a": [1, 2.5, true, null], "b": "Nguy\\u1ec5n"}') == {
        "a": [1, 2.5, True, None], "b": "Nguyễn"}
    assert loads('{"name": "Lan"}') == {"name": "Lan"}


@pytest.mark.parametrize(("body", "words"), [
    (b'{"active": true, "active": false}', "Duplicate JSON property 'active'"),
    (b'{"name": [{"family": "a", "family": "b"}]}', "Duplicate JSON property 'family'"),
    (b'{"a": NaN}', "Malformed"),
    (b'{"a": 1} trailing', "Malformed"),
    (b'\xff\xfe', "Malformed"),
    (b'["\\ud800"]', "Malformed"),
])
def test_bad_json_is_a_400(body: bytes, words: str) -> None:
    # json.html: a resource is a JSON object whose properties appear once
    with pytest.raises(InvalidRequest) as caught:
        loads(body)
    assert caught.value.status == 400
    assert words in caught.value.issues[0].diagnostics
