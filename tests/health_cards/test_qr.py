"""QR rendering (segno, two segments, EC level L, version <= 22) and decoding (zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import segno

from fhir_server.health_cards import (
    CardTooLarge,
    KeyStore,
    QrImageCache,
    TrustedIssuers,
    decode_qr_image,
    issue_cards,
    jws_to_numeric,
    make_qr,
    render_png,
    render_svg,
    verify,
)
from fhir_server.health_cards.encoding import MAX_SINGLE_JWS
from fhir_server.health_cards.qr import DecodedQr, minimal_versions, symbol_problems
from tests.health_cards.conftest import (
    ISS,
    NOW,
    SPEC,
    make_dose,
    make_patient,
    read,
    requires_vectors,
)

HEADER = "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiJ9."
JWS_1195 = HEADER + "A" * (MAX_SINGLE_JWS - len(HEADER) - 87) + "." + "B" * 86


def test_qr_uses_two_segments_and_error_level_l() -> None:
    """Spec "Encoding QRs": byte segment `shc:/` + numeric segment (segno reports mode None for
    a mixed-mode symbol); error correction L; smaller than one byte-mode segment would need."""
    code = make_qr(JWS_1195)
    assert code.mode is None and code.error == "L"
    two, one = minimal_versions(jws_to_numeric(JWS_1195), "l")
    assert code.version == two < one
    single = segno.make(jws_to_numeric(JWS_1195), mode="byte", error="l", boost_error=False)
    assert single.mode == "byte" and single.version == one


def test_longest_single_qr_card_fits_version_22() -> None:
    """Spec "Health Cards as QR Codes": a 1195-character JWS fits a V22 QR at level L; longer
    ones do not and must be split into several cards."""
    assert len(JWS_1195) == MAX_SINGLE_JWS
    assert make_qr(JWS_1195).version == 22
    with pytest.raises(CardTooLarge):
        make_qr(JWS_1195 + "A" * 40)


def test_png_decodes_back_to_the_same_text() -> None:
    """Issue: issued PNGs decode (zxing-cpp) to the same shc:/ string, version <= 22, EC L."""
    found = decode_qr_image(render_png(JWS_1195, cache=None))
    assert found == [DecodedQr(jws_to_numeric(JWS_1195), 22, "L")]
    assert symbol_problems(found[0]) == ([], [])


def test_svg_is_an_svg_document() -> None:
    """SVG rendering returns SVG bytes of the same symbol."""
    svg = render_svg(JWS_1195, cache=None)
    assert svg.startswith(b"<?xml") and b"<svg" in svg


def test_renders_are_cached_by_jws_hash() -> None:
    """Issue: rendered QR images are cached (LRU keyed by SHA-256 of the JWS)."""
    cache = QrImageCache(maxsize=2)
    first = cache.render(JWS_1195, "png")
    assert cache.render(JWS_1195, "png") is first
    assert (cache.hits, cache.misses) == (1, 1)
    cache.render(JWS_1195, "svg")
    cache.render(JWS_1195[:-1] + "C", "png")  # evicts the least recently used entry
    cache.render(JWS_1195, "png")
    assert cache.misses == 4
    with pytest.raises(ValueError):
        cache.render(JWS_1195, "gif")


@requires_vectors
@pytest.mark.parametrize("example", ["00", "01", "03"])
def test_spec_png_decodes_to_the_spec_numeric_text(example: str) -> None:
    """The spec's QR images decode to exactly the matching -f- text, V18 at level L."""
    found = decode_qr_image(read(SPEC / f"example-{example}-g-qr-code-0.png"))
    text = read(SPEC / f"example-{example}-f-qr-code-numeric-value-0.txt").decode()
    assert [(q.text, q.version, q.ec_level) for q in found] == [(text, 18, "L")]
    assert symbol_problems(found[0]) == ([], [])


def test_garbage_image_is_a_decode_error() -> None:
    """Bad input: bytes that are not an image give a reason, not a crash."""
    from fhir_server.health_cards import CardDecodeError

    with pytest.raises(CardDecodeError, match="not a readable image"):
        decode_qr_image(b"\x89PNG not really")


def test_photo_with_two_cards_gives_two_results(keystore: KeyStore,
                                                own_trusted: TrustedIssuers) -> None:
    """Two unchunked QR codes in one image are two cards, each verified on its own."""
    from PIL import Image

    cards = [issue_cards(make_patient(f"p{n}"), [make_dose(1, pid=f"p{n}")], iss=ISS,
                         keys=keystore, now=NOW)[0] for n in (1, 2)]
    images = [Image.open(io.BytesIO(c.png())) for c in cards]
    sheet = Image.new("RGB", (sum(i.width for i in images) + 40, max(i.height for i in images)),
                      "white")
    sheet.paste(images[0], (0, 0))
    sheet.paste(images[1], (images[0].width + 40, 0))
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    result = verify(out.getvalue(), own_trusted, now=NOW)
    assert result.verdict == "valid", result.reasons
    assert len(result.cards) == 2
