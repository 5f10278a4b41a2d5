"""The worksheet photo a chair uploads: a small, real JPEG per unit (made with Pillow)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw


@lru_cache(maxsize=4096)
def worksheet_jpeg(unit_id: str) -> bytes:
    """A 96x64 greyscale JPEG with the unit id written on it (a few hundred bytes)."""
    img = Image.new("L", (96, 64), color=235)
    ImageDraw.Draw(img).text((4, 24), unit_id, fill=20)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=60)
    return out.getvalue()
