"""bench/bench_verify_page.py's pure parts: the tampered card differs from the real one in one
signature digit and is still well-formed `shc:/` numeric text (SMART Health Cards spec, "Encoding
Chunks as QR codes": each character pair is 00-58), so the page reaches the server and the red
verdict is the signature's, not a format error."""

from __future__ import annotations

import re

from bench.bench_verify_page import tampered

SHC = "shc:/" + "".join(f"{(n * 7) % 59:02d}" for n in range(60))


def test_tampered_changes_one_digit_and_keeps_the_format() -> None:
    changed = tampered(SHC)
    assert len(changed) == len(SHC)
    assert sum(a != b for a, b in zip(changed, SHC, strict=True)) == 1
    assert re.fullmatch(r"shc:/(\d\d)+", changed)
    assert all(int(changed[i:i + 2]) <= 58 for i in range(5, len(changed), 2))

