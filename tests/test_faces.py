"""Faces on the adult face photos in ../shared/data/faces (skipped when absent) and drawn montages."""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_data
from PIL import Image, ImageDraw, ImageFilter

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.matching.faces.persons import chinese_whispers
from vigie.signals.faces import find_faces

pytest.importorskip("dlib", reason="the `faces` extra is not installed")

JOHNS = ("John_Salley", "John_Savage", "John_Schneider", "John_Shimkus", "John_Simm")


def johns() -> dict[str, list[Path]]:
    folder = shared_data("faces", "dlib-johns")
    return {name: sorted(folder.glob(f"{name}_*.jpg")) for name in JOHNS}


def montage(face_photo: Path, background: Image.Image, where: tuple[int, int], scale: float) -> Image.Image:
    """Paste the face of `face_photo` onto `background` with a feathered oval, as montage apps do."""
    photo = Image.open(face_photo).convert("RGB")
    x, y, w, h = find_faces(photo)[0].box
    margin = w // 3
    face = photo.crop((x - margin, y - margin, x + w + margin, y + h + margin))
    face = face.resize((round(face.width * scale), round(face.height * scale)))
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse((face.width // 8, face.height // 10, face.width * 7 // 8, face.height * 9 // 10),
                                 fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(face.width // 16))
    out = background.convert("RGB").copy()
    out.paste(face, where, mask)
    return out


def test_chinese_whispers_finds_components() -> None:
    labels = chinese_whispers(6, [(0, 1), (1, 2), (3, 4)])
    assert labels[0] == labels[1] == labels[2] and labels[3] == labels[4]
    assert len({labels[0], labels[3], labels[5]}) == 3


def test_no_face_in_a_drawn_scene() -> None:
    assert find_faces(draw_picture(5, (400, 300))) == []


def test_small_faces_are_found() -> None:
    group = shared_data("faces", "dlib-faces", "faces_2007_007763.jpg")
    faces = find_faces(Image.open(group))
    assert len(faces) >= 7 and min(f.box[2] for f in faces) <= 40


def test_yunet_detector_from_a_model_file() -> None:
    model = shared_data("models", "yunet_s_640_640.onnx")
    group = shared_data("faces", "dlib-faces", "faces_2008_002470.jpg")
    faces = find_faces(Image.open(group), "yunet", str(model))
    assert len(faces) >= 5 and all(f.detector == "yunet" and f.embedding.shape == (128,) for f in faces)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[Path]]]:
    people = johns()
    root = tmp_path_factory.mktemp("faces")
    evidence = root / "seizure"
    evidence.mkdir()
    for _name, photos in people.items():
        for photo in photos[1:]:  # the first photo of each is kept back as the search reference
            (evidence / photo.name).write_bytes(photo.read_bytes())
    backgrounds = [Image.open(p) for p in sorted(shared_data("photos", "kodak24").glob("*"))[:3]]
    backgrounds.append(draw_picture(9, (640, 480)))
    for index, background in enumerate(backgrounds):
        montage(people["John_Savage"][2 + index], background, (150, 60), 1.2).save(evidence / f"montage{index}.jpg")
    montage(people["John_Simm"][2], backgrounds[0], (200, 100), 1.0).save(evidence / "other-montage.jpg")
    case = root / "case"
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--faces"])
    assert result.exit_code == 0, result.output
    return evidence, case, people


@pytest.mark.slow
def test_grouping_puts_each_person_in_one_group(scanned: tuple[Path, Path, dict[str, list[Path]]]) -> None:
    _, case, _ = scanned
    result = CliRunner().invoke(main, ["faces", "group", "--case", str(case)])
    assert result.exit_code == 0, result.output
    report = json.loads(CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json"]).output)
    persons_of: dict[str, set[int]] = {}
    for item in report["items"]:
        name = Path(item["path"]).name
        owner = next((j for j in JOHNS if name.startswith(j)), None)
        if owner:
            assert len(item["faces"]) == 1
            persons_of.setdefault(owner, set()).add(item["faces"][0]["person"])
    assert all(len(groups) == 1 for groups in persons_of.values()), persons_of
    assert len({next(iter(g)) for g in persons_of.values()}) == len(JOHNS), "one group per person"


@pytest.mark.slow
def test_find_a_person_including_montages(scanned: tuple[Path, Path, dict[str, list[Path]]]) -> None:
    _, case, people = scanned
    reference = people["John_Savage"][0]
    output = CliRunner().invoke(main, ["faces", "find", "--case", str(case), "--reference", str(reference), "--json"])
    assert output.exit_code == 0, output.output
    hits = [json.loads(line) for line in output.output.splitlines()]
    assert all(set(h) >= {"path", "face", "distance", "verdict"} for h in hits)
    found = {Path(h["path"]).name for h in hits if h["verdict"] in ("match", "possible")}
    expected = {p.name for p in people["John_Savage"][1:]} | {f"montage{i}.jpg" for i in range(4)}
    assert expected <= found
    assert not any(name.startswith(("John_S", "other")) and not name.startswith("John_Savage") for name in found)
    assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)
    audit = CliRunner().invoke(main, ["audit", "show", "--case", str(case), "--json"]).output
    assert "faces-find" in audit and str(reference) not in audit, "searches are audited; references not stored"


def test_naming_survives_regrouping_and_purge_removes_embeddings(
    scanned: tuple[Path, Path, dict[str, list[Path]]]
) -> None:
    _, case, _ = scanned
    runner = CliRunner()
    runner.invoke(main, ["faces", "group", "--case", str(case)])
    db = sqlite3.connect(case / "case.sqlite")
    person = db.execute("SELECT person_id FROM faces GROUP BY person_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    assert runner.invoke(main, ["faces", "name", str(person), "Person A", "--case", str(case)]).exit_code == 0
    runner.invoke(main, ["faces", "group", "--case", str(case)])
    assert db.execute("SELECT name FROM persons WHERE id = ?", (person,)).fetchone() == ("Person A",)
    assert runner.invoke(main, ["faces", "purge", "--case", str(case), "--yes"]).exit_code == 0
    assert db.execute("SELECT count(*) FROM faces WHERE embedding IS NOT NULL OR crop IS NOT NULL").fetchone() == (0,)
    actions = [json.loads(line)["action"] for line in
               runner.invoke(main, ["audit", "show", "--case", str(case), "--json"]).output.splitlines()]
    assert {"person-name", "faces-group", "faces-purge"} <= set(actions)


@pytest.mark.slow
def test_eval_on_pairs_of_the_shared_photos(tmp_path: Path) -> None:
    people = johns()
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_x", "file_y", "same"])
        for _name, photos in people.items():
            for a, b in itertools.combinations(photos[:4], 2):
                writer.writerow([a, b, 1])
        for (_, x), (_, y) in itertools.combinations(people.items(), 2):
            writer.writerow([x[0], y[0], 0])
        writer.writerow([people["John_Simm"][0], str(shared_data("faces", "dlib-faces", "faces_dogs.jpg")), 0])
    result = json.loads(CliRunner().invoke(main, ["faces", "eval", str(pairs), "--json"]).output)
    assert result["pairs"] == 5 * 6 + 10 + 1
    assert result["undetected"] == 1
    assert result["accuracy"] == pytest.approx(40 / 41, abs=1e-3)
    assert result["threshold"] == 0.55


def test_scan_without_face_models_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--case", str(tmp_path / "c"), "--faces",
                                       "--face-detector", "yunet"])
    assert result.exit_code == 2 and "needs a model file" in result.output


@pytest.mark.slow
def test_embeddings_are_stored_as_float32(scanned: tuple[Path, Path, dict[str, list[Path]]]) -> None:
    _, case, _ = scanned
    db = sqlite3.connect(case / "case.sqlite")
    blob = db.execute("SELECT embedding FROM faces WHERE embedding IS NOT NULL LIMIT 1").fetchone()
    if blob:  # purged by an earlier test in this module
        assert np.frombuffer(blob[0], dtype=np.float32).shape == (128,)
