"""QR codes of cards: render (segno, two segments, error correction L, version <= 22) and decode.

Spec: SMART Health Cards "Health Cards as QR Codes" (version 22 at most, so a card prints at
40 x 40 mm) and "Encoding QRs" (segment 1 in byte mode: `shc:/`; segment 2 in numeric mode: the
digits). Rendering costs milliseconds (segno is pure Python), so PNG/SVG bytes are cached in a
small LRU keyed by the SHA-256 of the JWS. Decoding uses zxing-cpp and Pillow, imported lazily
so the issuing side does not need them. Issue 12 point 5: an image's byte size and its header's
pixel count are checked against a budget before any pixel is decoded (a 36 KiB PNG can claim
13000 x 13000 pixels and cost the worker 865 MB).
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import segno

from fhir_server.errors import PayloadTooLarge
from fhir_server.health_cards.encoding import SHC_PREFIX, jws_to_numeric
from fhir_server.health_cards.errors import CardDecodeError, CardTooLarge

MAX_VERSION = 22
MAX_IMAGE_BYTES = 8 * 1024 * 1024  # a phone photo of a QR code is well under this
MAX_IMAGE_PIXELS = 4_000_000  # 4 megapixels: plenty for a 40 x 40 mm version-22 symbol
PNG = "image/png"
SVG = "image/svg+xml"


class ImageTooLarge(PayloadTooLarge):
    """413: a QR image beyond the byte or pixel budget (refused before decoding pixels)."""


def make_qr(jws: str) -> segno.QRCode:
    """The card's QR: byte segment `shc:/` + numeric segment, EC level L, version <= 22."""
    digits = jws_to_numeric(jws)[len(SHC_PREFIX):]
    return make_qr_from_numeric(SHC_PREFIX + digits)


def make_qr_from_numeric(text: str, error: str = "l") -> segno.QRCode:
    """QR of an `shc:/` numeric string in the spec's two-segment form."""
    if not text.startswith(SHC_PREFIX):
        raise ValueError("not an shc:/ string")
    code = segno.make(_segments(text), error=error, boost_error=False, micro=False)
    if not isinstance(code.version, int) or code.version > MAX_VERSION:
        raise CardTooLarge(f"the card needs QR version {code.version}; the spec allows at most "
                           f"{MAX_VERSION} (JWS too long: split the card)")
    return code


def _segments(text: str) -> Any:
    """segno's explicit segment list: [("shc:/", byte mode), (digits, numeric mode)]."""
    return [(SHC_PREFIX, segno.consts.MODE_BYTE),
            (text[len(SHC_PREFIX):], segno.consts.MODE_NUMERIC)]


def minimal_versions(text: str, ec_level: str) -> tuple[int, int]:
    """(two-segment version, single byte-segment version) needed for text at ec_level."""
    two = segno.make(_segments(text), error=ec_level, boost_error=False, micro=False).version
    one = segno.make(text, mode="byte", error=ec_level, boost_error=False, micro=False).version
    return int(two), int(one)


def _png(code: segno.QRCode, scale: int, border: int) -> bytes:
    """PNG bytes of a QR code."""
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def _svg(code: segno.QRCode, scale: int, border: int) -> bytes:
    """SVG bytes of a QR code."""
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=border, xmldecl=True)
    return out.getvalue()


class QrImageCache:
    """Thread-safe LRU of rendered images keyed by (sha256(JWS), format, scale, border)."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple[str, str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, jws: str, kind: str, scale: int = 4, border: int = 4) -> bytes:
        """Cached PNG (kind 'png') or SVG (kind 'svg') of the card's QR code."""
        if kind not in ("png", "svg"):
            raise ValueError("kind must be 'png' or 'svg'")
        key = (hashlib.sha256(jws.encode("ascii")).hexdigest(), kind, scale, border)
        with self._lock:
            image = self._items.get(key)
            if image is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return image
            self.misses += 1
        code = make_qr(jws)
        image = _png(code, scale, border) if kind == "png" else _svg(code, scale, border)
        with self._lock:
            self._items[key] = image
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return image

    def clear(self) -> None:
        """Forget every cached image."""
        with self._lock:
            self._items.clear()


DEFAULT_CACHE = QrImageCache()


def render_png(jws: str, scale: int = 4, border: int = 4,
               cache: QrImageCache | None = DEFAULT_CACHE) -> bytes:
    """PNG bytes of the card's QR code (cached unless cache is None)."""
    if cache is None:
        return _png(make_qr(jws), scale, border)
    return cache.render(jws, "png", scale, border)


def render_svg(jws: str, scale: int = 4, border: int = 4,
               cache: QrImageCache | None = DEFAULT_CACHE) -> bytes:
    """SVG bytes of the card's QR code (cached unless cache is None)."""
    if cache is None:
        return _svg(make_qr(jws), scale, border)
    return cache.render(jws, "svg", scale, border)


@dataclass(frozen=True)
class DecodedQr:
    """Text of one QR symbol found in an image, with its version and error-correction level."""

    text: str
    version: int | None
    ec_level: str | None


def decode_qr_image(data: bytes) -> list[DecodedQr]:
    """Every QR code in an image (PNG, JPEG, GIF, BMP...), read with zxing-cpp."""
    try:
        import zxingcpp
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise CardDecodeError(f"QR image decoding needs zxing-cpp and Pillow ({exc})") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} are "
                            "accepted")
    try:
        with warnings.catch_warnings():  # our budget, far below Pillow's warning threshold
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))  # reads the header only
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageTooLarge(f"the image is {width} x {height} pixels; at most "
                                f"{MAX_IMAGE_PIXELS} pixels are accepted")
        opened.load()
        image = opened if opened.mode in ("L", "RGB", "RGBA") else opened.convert("RGB")
        barcodes = zxingcpp.read_barcodes(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            RuntimeError) as exc:
        raise CardDecodeError(f"not a readable image ({exc})") from None
    found = []
    for barcode in barcodes:
        if barcode.format != zxingcpp.BarcodeFormat.QRCode:
            continue
        extra = barcode.extra if isinstance(barcode.extra, dict) else {}
        version = str(extra.get("Version"))
        found.append(DecodedQr(barcode.text, int(version) if version.isdigit() else None,
                               barcode.ec_level or extra.get("ECLevel")))
    return found


def symbol_problems(qr: DecodedQr) -> tuple[list[str], list[str]]:
    """(spec violations, conformance issues) of one decoded QR symbol (version, segments)."""
    errors: list[str] = []
    issues: list[str] = []
    if qr.version is not None and qr.version > MAX_VERSION:
        errors.append(f"QR code version {qr.version} is larger than {MAX_VERSION}, the largest "
                      "the spec allows")
    if qr.version is None or not qr.ec_level or not qr.text.startswith(SHC_PREFIX):
        return errors, issues
    rest = qr.text[len(SHC_PREFIX):]
    if not rest.isascii() or not rest.isdigit():
        return errors, issues  # the numeric decoding step reports this precisely
    try:
        two, one = minimal_versions(qr.text, qr.ec_level.lower())
    except (ValueError, segno.DataOverflowError):
        return errors, issues
    if qr.version > two and qr.version == one:
        issues.append("QR code encodes everything in one byte-mode segment: the spec requires "
                      "a byte segment 'shc:/' followed by a numeric segment")
    elif qr.version > two:
        issues.append(f"QR code has version {qr.version} but version {two} suffices at error "
                      f"correction {qr.ec_level} (symbol inflated)")
    return errors, issues
