"""A tiny evaluation corpus of drawn pictures with the manifest the shared ai-train corpus uses."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import ImageFilter

from vigie.demo.seizure import draw_picture


def tiny_corpus(root: Path) -> Path:
    """Six drawn 'photos' (JPEG) and two families of three drawn 'generated' pictures (blurred / sharpened PNG),
    with the manifest the ai-train corpus uses."""
    rows = []
    for index in range(6):
        name = f"photos/p{index}.jpg"
        (root / "photos").mkdir(parents=True, exist_ok=True)
        draw_picture(index, (160, 120)).save(root / name, quality=90)
        rows.append({"file": name, "class": "camera", "camera": f"cam{index % 2}", "repository": f"source{index % 3}"})
    for family, kind in (("blurry", ImageFilter.GaussianBlur(2)), ("sharp", ImageFilter.SHARPEN)):
        (root / "generated" / family).mkdir(parents=True, exist_ok=True)
        for index in range(3):
            name = f"generated/{family}/g{index}.png"
            draw_picture(10 + index, (128, 128)).filter(kind).save(root / name)
            rows.append({"file": name, "class": "generated", "family": family, "repository": "drawn"})
    manifest = root / "manifest.json"
    manifest.write_text(json.dumps(rows))
    return manifest
