"""The worksheet photo a chair uploads: a small, real JPEG per unit (made with Pillow).

Each photo is made once per unit (about half a millisecond: the unit id from glyphs
rendered once, then a JPEG encode); each process makes its units' photos before the night
(:func:`make_photos`), so none is drawn at the busiest moment of the night.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache

from PIL import Image, ImageDraw

SIZE = (96, 64)
GLYPH = (6, 12)
"""Pixels per character cell of the unit id."""


@lru_cache(maxsize=128)
def _glyph(ch: str) -> Image.Image:
    cell = Image.new("L", GLYPH, color=235)
    ImageDraw.Draw(cell).text((0, 0), ch, fill=20)
    return cell


@lru_cache(maxsize=8192)
def worksheet_jpeg(unit_id: str) -> bytes:
    """A 96x64 greyscale JPEG with the unit id written on it (a few hundred bytes)."""
    img = Image.new("L", SIZE, color=235)
    for k, ch in enumerate(unit_id[: SIZE[0] // GLYPH[0] - 1]):
        img.paste(_glyph(ch), (4 + GLYPH[0] * k, 24))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=60)
    return out.getvalue()


def make_photos(unit_ids: Iterable[str]) -> None:
    """Make (and keep) the photos of ``unit_ids`` now, ahead of the night."""
    for uid in unit_ids:
        worksheet_jpeg(uid)
