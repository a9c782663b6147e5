"""Face crops in the console: served blurred with the user's settings, as thumbnails are, and in clear only
while their item is revealed to the session (the item's audited reveal), with the person's name."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.test_console_api import app, high_frequency_energy, login, queue  # noqa: F401  (the app fixture)
from vigie.demo.seizure import draw_picture
from vigie.records import Face
from vigie.store.sqlite import open_case


def crop_jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (112, 112)).save(out, "JPEG", quality=90)
    return out.getvalue()


def add_named_face(case: Path, item_id: int, name: str | None = "Ana") -> int:
    """One face (a drawn crop standing in for one) on the item, grouped as a person named `name`."""
    store = open_case(case)
    face = Face((10, 10, 40, 40), ((1.0, 1.0),) * 5, np.zeros(128, np.float32), 0.9, "test", crop_jpeg(item_id))
    store.add_faces(item_id, [face])
    face_id = int(store.db.execute("SELECT max(id) FROM faces").fetchone()[0])
    store.update_person_groups([(None, [face_id], face_id)])
    if name:
        person = store.db.execute("SELECT person_id FROM faces WHERE id = ?", (face_id,)).fetchone()[0]
        store.name_person(person, name)
    store.close()
    return face_id


@pytest.fixture
def face(app: Any) -> tuple[int, int]:  # noqa: F811
    """(item id, face id) of a face added to the first image of the queue."""
    client, _ = login(app, "rita")
    item = queue(client, media="image")["entries"][0]["id"]
    return item, add_named_face(app.config["VIGIE_CASE"], item)


def test_face_crop_is_blurred_and_named_in_the_item_panel(app: Any, face: tuple[int, int]) -> None:  # noqa: F811
    item, face_id = face
    client, _ = login(app, "rita")
    faces = client.get(f"/api/items/{item}").get_json()["faces"]
    assert [(f["id"], f["person_name"]) for f in faces] == [(face_id, "Ana")]
    persons = client.get("/api/filters").get_json()["persons"]
    assert [(p["name"], p["face"], p["items"]) for p in persons] == [("Ana", face_id, 1)]  # the person view's face
    served = client.get(f"/media/faces/{face_id}/thumb")
    assert served.mimetype == "image/jpeg"
    blurred = Image.open(io.BytesIO(served.data))
    clear = Image.open(io.BytesIO(crop_jpeg(item)))
    assert blurred.mode == "L"  # greyscale by default, as thumbnails
    assert high_frequency_energy(blurred) < high_frequency_energy(clear) / 10


def test_face_crop_is_clear_only_after_its_item_is_revealed(app: Any, face: tuple[int, int]) -> None:  # noqa: F811
    item, face_id = face
    client, csrf = login(app, "rita")
    assert client.get(f"/media/faces/{face_id}/full").status_code == 403
    other = next(e["id"] for e in queue(client, status="all")["entries"] if e["id"] != item)
    client.post(f"/api/items/{other}/reveal", headers={"X-CSRF-Token": csrf})
    assert client.get(f"/media/faces/{face_id}/full").status_code == 403  # another item's reveal opens nothing
    client.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf})
    shown = client.get(f"/media/faces/{face_id}/full")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(shown.data)).mode == "RGB"
    colleague, _ = login(app, "rob")
    assert colleague.get(f"/media/faces/{face_id}/full").status_code == 403  # the reveal was rita's session's

    store = open_case(app.config["VIGIE_CASE"])
    reveals = [e.details["items"] for e in store.audit_entries() if e.action == "reveal"]
    store.close()
    assert reveals == [[other], [item]]


def test_a_missing_or_purged_face_crop_says_so(app: Any, face: tuple[int, int]) -> None:  # noqa: F811
    _, face_id = face
    client, _ = login(app, "rita")
    assert client.get(f"/media/faces/{face_id + 1000}/thumb").status_code == 404
    store = open_case(app.config["VIGIE_CASE"])
    store.purge_faces()
    store.close()
    purged = client.get(f"/media/faces/{face_id}/thumb")
    assert purged.status_code == 404 and "purge" in purged.get_json()["error"]


def _person_with_two_faces(app: Any, item: int) -> tuple[int, int, int]:  # noqa: F811
    """(person, first face, second face): two faces on the item that a grouping put in one person."""
    first = add_named_face(app.config["VIGIE_CASE"], item, name=None)
    second = add_named_face(app.config["VIGIE_CASE"], item, name=None)
    store = open_case(app.config["VIGIE_CASE"])
    person = store.db.execute("SELECT person_id FROM faces WHERE id = ?", (first,)).fetchone()[0]
    store.merge_persons(person, store.db.execute("SELECT person_id FROM faces WHERE id = ?", (second,)).fetchone()[0])
    store.close()
    return person, first, second


def test_a_reviewer_names_splits_and_merges_persons_audited_under_their_name(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    item = queue(client, media="image")["entries"][0]["id"]
    person, first, second = _person_with_two_faces(app, item)

    named = client.post(f"/api/persons/{person}/name", json={"name": " Ana "}, headers=headers)
    assert named.get_json() == {"person": person, "name": "Ana"}
    split = client.post(f"/api/persons/{person}/split", json={"faces": [second]}, headers=headers)
    new = split.get_json()["new_person"]
    faces = client.get(f"/api/items/{item}").get_json()["faces"]
    assert [(f["id"], f["person"], f["person_name"]) for f in faces] == [(first, person, "Ana"), (second, new, None)]
    merged = client.post("/api/persons/merge", json={"keep": person, "absorb": new}, headers=headers)
    assert merged.get_json() == {"person": person, "faces_moved": 1}
    assert [p["id"] for p in client.get("/api/filters").get_json()["persons"]] == [person]
    audit = client.get("/api/audit").get_json()["entries"]
    assert [(e["actor"], e["action"]) for e in audit[:3]] == [  # newest first
        ("rita", "person-merge"), ("rita", "person-split"), ("rita", "person-name")]


def test_person_changes_that_cannot_be_are_refused_in_the_users_language(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    item = queue(client, media="image")["entries"][0]["id"]
    person, first, _ = _person_with_two_faces(app, item)
    for url, body, status, said in [
        (f"/api/persons/{person}/split", {"faces": [first, 10**6]}, 400, f"face 1000000 not in person {person}"),
        (f"/api/persons/{person}/split", {"faces": []}, 400, "faces is a list of 1 to"),
        (f"/api/persons/{person}/split", {"faces": [True]}, 400, "faces is a list of 1 to"),
        ("/api/persons/999/split", {"faces": [first]}, 404, "no person 999 in this case"),
        ("/api/persons/merge", {"keep": person, "absorb": person}, 400, "cannot be merged into itself"),
        ("/api/persons/merge", {"keep": person, "absorb": "2"}, 400, "keep and absorb are the ids of two persons"),
        (f"/api/persons/{person}/name", {"name": ""}, 400, "a name is 1 to 200 printable characters"),
        (f"/api/persons/{person}/name", {"name": "\x1b[2JAna"}, 400, "a name is 1 to 200 printable characters"),
        ("/api/persons/999/name", {"name": "Ana"}, 404, "no person 999 in this case"),
    ]:
        answer = client.post(url, json=body, headers=headers)
        assert answer.status_code == status, (url, body, answer.get_data(as_text=True))
        assert said in answer.get_json()["error"], answer.get_json()
    french = client.post("/api/persons/999/split", json={"faces": [first]},
                         headers={**headers, "Accept-Language": "fr"})
    assert french.get_json()["error"] == "aucune personne 999 dans cette affaire"
    reader, reader_csrf = login(app, "olga")
    refused = reader.post(f"/api/persons/{person}/name", json={"name": "Ana"}, headers={"X-CSRF-Token": reader_csrf})
    assert refused.status_code == 403
    assert [f["person"] for f in client.get(f"/api/items/{item}").get_json()["faces"]] == [person, person]
