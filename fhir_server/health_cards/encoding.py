"""Byte-level steps and their inverses: base64url, minified JSON, raw DEFLATE, `shc:/` numeric.

Spec: SMART Health Cards "Health Cards are Compact" (minified JSON, raw DEFLATE without zlib
header) and "Encoding QRs" (each JWS character c becomes the two digits ord(c) - 45).
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from fhir_server.health_cards.errors import CardDecodeError
from fhir_server.model.jsonio import dumps

SHC_PREFIX = "shc:/"
MAX_SINGLE_JWS = 1195  # longest JWS that fits one V22 QR at error correction L (spec)
MAX_CHUNK_JWS = 1191  # longest chunk of a (deprecated) chunked card
MAX_INFLATED = 1 << 20  # refuse to inflate payloads larger than 1 MiB (deflate bombs)
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_CHUNK_HEADER = re.compile(r"shc:/(\d+)/(\d+)/")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of b64url_encode: rejects padding and characters outside the alphabet."""
    if not _B64URL.fullmatch(text):
        raise CardDecodeError("not base64url: characters outside [A-Za-z0-9_-] (or padding)")
    if len(text) % 4 == 1:
        raise CardDecodeError("not base64url: impossible length")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def to_json(value: Any) -> bytes:
    """Minified UTF-8 JSON (no optional whitespace), as the spec requires for the payload;
    FHIR decimals keep their stored text (jsonio.dumps)."""
    return dumps(value)


def from_json(data: bytes | str) -> Any:
    """Parse JSON; a BOM, NaN or trailing garbage is an error (CardDecodeError)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CardDecodeError(f"not valid JSON: {exc}") from None


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951, wbits=-15: no zlib header, no checksum), best compression."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return compressor.compress(data) + compressor.flush()


def inflate(data: bytes, limit: int = MAX_INFLATED) -> bytes:
    """Inverse of deflate; rejects zlib-wrapped or uncompressed data and trailing bytes."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        if _is_zlib_stream(data):
            raise CardDecodeError(
                "payload has a zlib header: the spec requires raw DEFLATE (no zlib/gzip header)"
            ) from None
        if data[:1] == b"{":
            raise CardDecodeError(
                "payload is not compressed although the header says zip DEF") from None
        raise CardDecodeError("payload is not valid raw DEFLATE data") from None
    if inflater.unconsumed_tail:
        raise CardDecodeError(f"inflated payload is larger than {limit} bytes")
    if not inflater.eof:
        raise CardDecodeError("raw DEFLATE stream is truncated")
    if inflater.unused_data:
        raise CardDecodeError("bytes after the end of the raw DEFLATE stream")
    return out


def _is_zlib_stream(data: bytes) -> bool:
    """True if data is a complete zlib-wrapped (RFC 1950) stream."""
    try:
        zlib.decompress(data)
    except zlib.error:
        return False
    return True


def jws_to_numeric(jws: str) -> str:
    """`shc:/` followed by two digits per JWS character (ord(c) - 45), spec "Encoding QRs"."""
    return SHC_PREFIX + "".join(f"{ord(c) - 45:02d}" for c in jws)


def digits_to_jws(digits: str) -> str:
    """Inverse of the numeric step for the digits only; checks even length and pairs <= 77."""
    if not digits:
        raise CardDecodeError("numeric QR content is empty")
    if not digits.isascii() or not digits.isdigit():
        bad = next(c for c in digits if not ("0" <= c <= "9"))
        raise CardDecodeError(
            f"numeric QR content has a non-digit character {bad!r} "
            "(an extra QR segment or text appended after the numeric segment?)"
        )
    if len(digits) % 2:
        raise CardDecodeError(
            f"numeric QR content has an odd number of digits ({len(digits)}): "
            "each JWS character is exactly two digits (leading zero dropped?)"
        )
    chars = []
    for i in range(0, len(digits), 2):
        value = int(digits[i:i + 2])
        if value > 77:
            raise CardDecodeError(
                f"numeric QR digit pair {digits[i:i + 2]!r} at position {i} is larger than 77 "
                "(the encoding of 'z'), so it is not a JWS character"
            )
        chars.append(chr(value + 45))
    return "".join(chars)


@dataclass(frozen=True)
class NumericQr:
    """One decoded `shc:/` string: the JWS part it carries and its (deprecated) chunk header."""

    jws_part: str
    index: int = 1
    total: int = 1
    chunked: bool = False


def numeric_to_jws(text: str) -> NumericQr:
    """Inverse of jws_to_numeric; also parses a chunk header `shc:/C/N/` if present."""
    if not text.startswith(SHC_PREFIX):
        if text.lower().startswith(SHC_PREFIX):
            raise CardDecodeError("QR header must be lower-case 'shc:/'")
        raise CardDecodeError(f"QR content does not start with {SHC_PREFIX!r}: {text[:12]!r}")
    header = _CHUNK_HEADER.match(text)
    if header is None:
        return NumericQr(digits_to_jws(text[len(SHC_PREFIX):]))
    index, total = int(header.group(1)), int(header.group(2))
    if total < 1 or index < 1:
        raise CardDecodeError(f"invalid QR chunk header shc:/{index}/{total}/")
    if index > total:
        raise CardDecodeError(f"QR chunk index {index} is out of range (total {total})")
    return NumericQr(digits_to_jws(text[header.end():]), index, total, chunked=True)


def chunk_problems(parts: list[NumericQr]) -> list[str]:
    """Reasons a set of numeric QRs cannot form one card (chunking is deprecated since 1.3)."""
    problems: list[str] = []
    if any(p.chunked for p in parts):
        problems.append("QR chunking (shc:/C/N/ headers) is deprecated since SHC 1.3; "
                        "a card must fit in one QR code")
    if len(parts) == 1 and parts[0].chunked and parts[0].total == 1:
        problems.append("a single QR code must not carry a chunk header (found shc:/1/1/)")
    totals = {p.total for p in parts}
    if len(totals) > 1:
        problems.append(f"QR chunks disagree on the chunk count: {sorted(totals)}")
    seen: set[int] = set()
    for p in parts:
        if p.index in seen:
            problems.append(f"QR chunk {p.index} appears more than once")
        seen.add(p.index)
        limit = MAX_CHUNK_JWS if p.total > 1 else MAX_SINGLE_JWS
        if len(p.jws_part) > limit:
            problems.append(f"QR chunk {p.index} carries {len(p.jws_part)} JWS characters "
                            f"(limit {limit})")
    total = max(totals) if totals else 0
    missing = sorted(set(range(1, total + 1)) - seen)
    if missing:
        problems.append(f"missing QR chunk(s) {missing} of {total}")
    joined = sum(len(p.jws_part) for p in parts)
    if total > 1 and not missing and joined <= MAX_SINGLE_JWS:
        problems.append(f"JWS of {joined} characters fits one QR code but was split into "
                        f"{total} chunks")
    return problems


def join_chunks(parts: list[NumericQr]) -> str:
    """Reassemble the JWS from numeric QR parts in chunk order (any scan order)."""
    return "".join(p.jws_part for p in sorted(parts, key=lambda p: p.index))
