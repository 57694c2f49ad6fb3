"""Draws the app's two icons with the standard library only (no Pillow needed).

Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white on a
transparent background (https://learn.microsoft.com/en-us/microsoftteams/platform/concepts/build-and-test/apps-package#app-icons).
Run `python deploy/teams/icons.py` to redraw them; the PNGs are committed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

Pixel = tuple[int, int, int, int]
HERE = Path(__file__).resolve().parent
BLUE: Pixel = (31, 111, 178, 255)
WHITE: Pixel = (255, 255, 255, 255)
CLEAR: Pixel = (0, 0, 0, 0)


def png(size: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """An RGBA PNG of `size` x `size`; `pixel(x, y)` gets coordinates scaled to 0..1."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel((x + 0.5) / size, (y + 0.5) / size)) for x in range(size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _tick(x: float, y: float, width: float) -> bool:
    """A check mark: two strokes, (0.25,0.52)->(0.43,0.70)->(0.76,0.33)."""

    def near(ax: float, ay: float, bx: float, by: float) -> bool:
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= width * width

    return near(0.25, 0.52, 0.43, 0.70) or near(0.43, 0.70, 0.76, 0.33)


def color(x: float, y: float) -> Pixel:
    """White tick on a blue square (the colour icon fills its whole square)."""
    return WHITE if _tick(x, y, 0.07) else BLUE


def outline(x: float, y: float) -> Pixel:
    """White tick in a white ring on transparency."""
    ring = 0.36 <= ((x - 0.5) ** 2 + (y - 0.5) ** 2) ** 0.5 <= 0.46
    return WHITE if ring or _tick(x, y, 0.06) else CLEAR


if __name__ == "__main__":
    (HERE / "color.png").write_bytes(png(192, color))
    (HERE / "outline.png").write_bytes(png(32, outline))
    print("wrote deploy/teams/color.png and teams/outline.png")
