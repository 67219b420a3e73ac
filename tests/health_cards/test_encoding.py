"""Round trips of the byte-level steps: base64url, JSON, raw DEFLATE, `shc:/` numeric."""

from __future__ import annotations

import string
import zlib

import pytest

from fhir_server.health_cards.encoding import (
    MAX_INFLATED,
    b64url_decode,
    b64url_encode,
    chunk_problems,
    deflate,
    from_json,
    inflate,
    join_chunks,
    jws_to_numeric,
    numeric_to_jws,
    to_json,
)
from fhir_server.health_cards.errors import CardDecodeError
from tests.health_cards.conftest import SPEC, read, requires_vectors

JWS_ALPHABET = string.ascii_letters + string.digits + "-_."


@pytest.mark.parametrize("data", [b"", b"\x00", b"ab", b"abc", bytes(range(256))])
def test_b64url_round_trip(data: bytes) -> None:
    """RFC 7515 section 2: base64url without padding, and back."""
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize("bad", ["ab==", "a+b/", "abcde", "ab c"])
def test_b64url_rejects_padding_and_foreign_alphabet(bad: str) -> None:
    """Compact JWS parts use the base64url alphabet only, without padding."""
    with pytest.raises(CardDecodeError):
        b64url_decode(bad)


def test_json_is_minified_and_round_trips() -> None:
    """Spec "Health Cards are Compact": the payload is minified (no optional whitespace)."""
    value = {"iss": "https://x", "nbf": 1, "vc": {"type": ["a", "b"], "name": "Nguyễn"}}
    data = to_json(value)
    assert b" " not in data.replace("Nguyễn".encode(), b"")
    assert from_json(data) == value


@pytest.mark.parametrize("bad", [b"\xef\xbb\xbf{}", b"{} x", b"{", b"NaN"])
def test_from_json_rejects_bom_and_garbage(bad: bytes) -> None:
    """A BOM, trailing garbage or invalid JSON is a decode error, never a crash."""
    with pytest.raises(CardDecodeError):
        from_json(bad)


def test_deflate_is_raw_and_round_trips() -> None:
    """Spec: payload compressed with raw DEFLATE (RFC 1951), no zlib or gzip header."""
    data = to_json({"vc": {"credentialSubject": {"x": "y" * 500}}})
    packed = deflate(data)
    assert len(packed) < len(data)
    with pytest.raises(zlib.error):
        zlib.decompress(packed)  # no zlib header: plain zlib.decompress must fail
    assert zlib.decompress(packed, -15) == data
    assert inflate(packed) == data


def test_inflate_rejects_zlib_wrapper_uncompressed_and_trailing_bytes() -> None:
    """The official validator's INFLATION_ERROR cases, each with its own reason."""
    data = to_json({"a": "b" * 100})
    with pytest.raises(CardDecodeError, match="zlib header"):
        inflate(zlib.compress(data))
    with pytest.raises(CardDecodeError, match="not compressed"):
        inflate(data)
    with pytest.raises(CardDecodeError, match="after the end"):
        inflate(deflate(data) + b"xx")
    with pytest.raises(CardDecodeError, match="truncated"):
        inflate(deflate(data)[:-3])


def test_inflate_refuses_deflate_bombs() -> None:
    """A payload inflating beyond the limit is refused instead of exhausting memory."""
    bomb = deflate(b"\0" * (MAX_INFLATED + 1000))
    with pytest.raises(CardDecodeError, match="larger than"):
        inflate(bomb)


def test_numeric_round_trip_over_the_whole_jws_alphabet() -> None:
    """Spec "Encoding QRs": each character c becomes the two digits ord(c) - 45, and back."""
    text = jws_to_numeric(JWS_ALPHABET)
    assert text.startswith("shc:/")
    digits = text[5:]
    assert len(digits) == 2 * len(JWS_ALPHABET)
    assert max(int(digits[i:i + 2]) for i in range(0, len(digits), 2)) == ord("z") - 45 == 77
    assert jws_to_numeric("X") == "shc:/43"  # the spec's own example
    assert numeric_to_jws(text).jws_part == JWS_ALPHABET


@requires_vectors
def test_numeric_of_spec_example_matches_its_jws() -> None:
    """Spec example 00: the -f- numeric text is exactly the numeric form of the -d- JWS."""
    jws = read(SPEC / "example-00-d-jws.txt").decode()
    numeric = read(SPEC / "example-00-f-qr-code-numeric-value-0.txt").decode()
    assert jws_to_numeric(jws) == numeric
    assert numeric_to_jws(numeric).jws_part == jws


@pytest.mark.parametrize(("text", "reason"), [
    ("shc:/567", "odd number of digits"),
    ("shc:/5678", "larger than 77"),
    ("shc:/5699", "larger than 77"),
    ("shc:/56extra", "non-digit"),
    ("shc:/", "empty"),
    ("shc:5676", "does not start with"),
    ("SHC:/5676", "lower-case"),
    ("shc:/3/2/5676", "out of range"),
])
def test_numeric_decoding_rejects_malformed_content(text: str, reason: str) -> None:
    """Spec "Encoding QRs": even number of digits, pairs 00..77, lower-case `shc:/` header."""
    with pytest.raises(CardDecodeError, match=reason):
        numeric_to_jws(text)


def test_chunk_headers_are_parsed_and_always_reported() -> None:
    """Spec (deprecated chunking): `shc:/C/N/` parses, but any chunking is a reason to reject."""
    parts = [numeric_to_jws("shc:/2/2/5758"), numeric_to_jws("shc:/1/2/5556")]
    assert [p.index for p in parts] == [2, 1] and all(p.total == 2 for p in parts)
    assert join_chunks(parts) == "defg"  # 55 -> d, 56 -> e, 57 -> f, 58 -> g
    problems = chunk_problems(parts)
    assert any("deprecated" in p for p in problems)
    assert any("fits one QR code but was split" in p for p in problems)
    assert any("1/1" in p for p in chunk_problems([numeric_to_jws("shc:/1/1/5556")]))
    assert any("missing" in p for p in chunk_problems(parts[:1]))
    assert any("more than once" in p for p in chunk_problems([parts[0], parts[0]]))
    assert chunk_problems([numeric_to_jws("shc:/5556")]) == []
