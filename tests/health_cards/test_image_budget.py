"""Issue 12 point 5: QR images are refused by size (bytes, header pixels) before decoding."""

from __future__ import annotations

import base64
import struct
import time
import tracemalloc
import zlib

import pytest
from flask.testing import FlaskClient

from fhir_server.health_cards.qr import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    ImageTooLarge,
    decode_qr_image,
    render_png,
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 13000) -> bytes:
    """A valid 1-bit greyscale PNG of side x side white pixels: tens of KiB on the wire."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def test_pixel_bomb_refused_before_decoding() -> None:
    """13000 x 13000 pixels (169 MP > 4 MP budget): ImageTooLarge, no pixel buffer allocated."""
    bomb = png_bomb()
    assert len(bomb) < 64 * 1024
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(ImageTooLarge) as caught:
        decode_qr_image(bomb)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert caught.value.status == 413 and "13000 x 13000" in caught.value.message
    assert peak < 20 * 1024 * 1024  # decoding would need >= 21 MB (1 bit) up to 507 MB (RGB)
    assert elapsed < 5  # the old path took ~12 s


def test_byte_budget() -> None:
    """Bytes beyond MAX_IMAGE_BYTES are refused without being parsed."""
    with pytest.raises(ImageTooLarge):
        decode_qr_image(b"\x89PNG" + b"\x00" * MAX_IMAGE_BYTES)


def test_images_within_budget_still_decode() -> None:
    """A real card QR (well under 4 MP) is still read."""
    png = render_png("eyJ6aXAiOiJERUYifQ.e30.c2ln", cache=None)
    assert decode_qr_image(png)[0].text.startswith("shc:/")
    assert png_bomb(2000).startswith(b"\x89PNG") and MAX_IMAGE_PIXELS >= 2000 * 2000
    assert decode_qr_image(png_bomb(2000)) == []  # 4 MP exactly: decoded (blank, no QR)


def test_anonymous_bomb_over_http_is_413(make_app: object) -> None:
    """POST /$verify-health-card with the bomb (raw or in Parameters): 413 OperationOutcome."""
    client: FlaskClient = make_app(auth_required=True).test_client()  # type: ignore[operator]
    bomb = png_bomb()
    raw = client.post("/$verify-health-card", data=bomb, headers={"Content-Type": "image/png"})
    wrapped = client.post("/$verify-health-card", json={"resourceType": "Parameters",
                          "parameter": [{"name": "image",
                                         "valueBase64Binary": base64.b64encode(bomb).decode()}]})
    for response in (raw, wrapped):
        assert response.status_code == 413
        outcome = response.get_json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "too-costly"
