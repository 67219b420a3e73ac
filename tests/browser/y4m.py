"""A QR image as a short YUV4MPEG2 (Y4M) video, the format of Chromium's fake camera file."""

from __future__ import annotations

import io

from PIL import Image

WIDTH, HEIGHT = 640, 480


def qr_video(png: bytes, frames: int = 2) -> bytes:
    """Y4M 4:2:0 frames showing the QR (grey levels only) centred on white."""
    qr = Image.open(io.BytesIO(png)).convert("L")
    side = HEIGHT - 40
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(qr.resize((side, side), Image.Resampling.NEAREST),
                ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode("ascii")
    return header + (b"FRAME\n" + luma + chroma + chroma) * frames
