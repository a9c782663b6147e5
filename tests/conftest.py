from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.exif_thumbnail import ExifThumbnail, exif_thumbnails

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (evaluation data lives beside the repository)")
    return path


def scanned_report(evidence: Path, case: Path, settings: Settings, hash_list: Path | None = None
                   ) -> list[dict]:  # type: ignore[type-arg]
    """The report's items of a scan of `evidence` into a new case at `case`, `hash_list` imported first."""
    from vigie.exports.report import render
    from vigie.matching.list_import import import_hash_list
    from vigie.scan.pipeline import run_scan
    from vigie.store.sqlite import open_case

    store = open_case(case, create=True)
    try:
        if hash_list is not None:
            import_hash_list(store, hash_list, settings)
        run_scan(store, [str(evidence)], settings)
        return json.loads(render(store, "json"))["items"]  # type: ignore[no-any-return]
    finally:
        store.close()


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


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo seizure, scanned once per test run; tests work on copies of its case folder."""
    from click.testing import CliRunner

    from vigie.cli import main

    root = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--dir", str(root), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def demo_case(demo_build: Path, tmp_path: Path) -> Path:
    import shutil

    case = tmp_path / "case"
    shutil.copytree(demo_build / "case", case)
    return case


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A libpq URL of a private PostgreSQL database (see tests/pg.py); skips with the reason when none can run."""
    from pg import private_server, why_no_server

    reason = why_no_server()
    if reason:
        pytest.skip(reason)
    with private_server() as url:
        yield url


@pytest.fixture
def postgres_case(postgres_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL naming a new PostgreSQL case; its local folder goes under the test's temp dir."""
    import uuid

    monkeypatch.setenv("VIGIE_CACHE_DIR", str(tmp_path / "cache"))
    separator = "&" if "?" in postgres_server else "?"
    return f"{postgres_server}{separator}case=t{uuid.uuid4().hex[:12]}"


def exif_thumbnail(data: bytes, media_type: str = "image/jpeg") -> ExifThumbnail:
    """The first EXIF thumbnail of `data` that `exif_thumbnails` reads, else the first problem it met."""
    return next(iter(exif_thumbnails(data, media_type)), ExifThumbnail(None, None))
