from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vigie.config import Settings
from vigie.demo import draw_picture

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (evaluation data lives beside the repository)")
    return path


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture
def picture() -> Image.Image:
    return draw_picture(7, (640, 480))


@pytest.fixture
def settings() -> Settings:
    return Settings(workers=1)
