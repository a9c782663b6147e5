"""The large view's server side: a video's stills blurred one by one for the scrub bar, the stills listed in
the item panel's data, and the per-user settings of the view (hold-to-reveal, the grid's density)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.test_console_api import app, high_frequency_energy, login, queue  # noqa: F401  (the app fixture)
from vigie.store.sqlite import open_case


def test_video_stills_are_listed_and_served_blurred(app: Any) -> None:  # noqa: F811
    client, _ = login(app, "rita")
    video = queue(client, media="video")["entries"][0]
    image = queue(client, media="image")["entries"][0]
    stills = client.get(f"/api/items/{video['id']}").get_json()["stills"]
    assert stills and [s["index"] for s in stills] == list(range(len(stills)))
    assert stills[0]["time"].startswith("0:00:") and isinstance(stills[0]["seconds"], float)
    assert client.get(f"/api/items/{image['id']}").get_json()["stills"] == []

    store = open_case(app.config["VIGIE_CASE"])
    stored = store.video_stills(video["id"])
    store.close()
    for n, (_, _, jpeg) in enumerate(stored):
        served = client.get(f"/media/{video['id']}/still/{n}")
        assert served.mimetype == "image/jpeg"
        shown = Image.open(io.BytesIO(served.data))
        assert shown.mode == "L"  # stored greyscale, and blurred again with the user's blur
        assert high_frequency_energy(shown) <= high_frequency_energy(Image.open(io.BytesIO(jpeg)))
    assert client.get(f"/media/{video['id']}/still/{len(stored)}").status_code == 404
    assert client.get(f"/media/{image['id']}/still/0").status_code == 404
    assert client.get("/media/999999/still/0").status_code == 404


def test_hold_to_reveal_is_a_checked_setting_of_ones_own(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    assert client.get("/api/me").get_json()["settings"]["hold_to_reveal"] is False
    refused = client.post("/api/settings", json={"hold_to_reveal": "yes"}, headers=headers)
    assert refused.status_code == 400 and "true or false" in refused.get_json()["error"]
    assert client.post("/api/settings", json={"hold_to_reveal": True}, headers=headers).status_code == 200
    assert client.get("/api/me").get_json()["settings"]["hold_to_reveal"] is True
    other, _ = login(app, "rob")
    assert other.get("/api/me").get_json()["settings"]["hold_to_reveal"] is False


def test_density_is_a_checked_setting_of_ones_own(app: Any) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    assert client.get("/api/me").get_json()["settings"]["density"] == "comfortable"
    refused = client.post("/api/settings", json={"density": "huge"}, headers=headers)
    assert refused.status_code == 400 and "compact" in refused.get_json()["error"]
    saved = client.post("/api/settings", json={"density": "compact"}, headers=headers).get_json()["settings"]
    assert saved["density"] == "compact" and saved["blur"] == client.get("/api/me").get_json()["settings"]["blur"]
    assert client.get("/api/me").get_json()["settings"]["density"] == "compact"
    other, _ = login(app, "rob")
    assert other.get("/api/me").get_json()["settings"]["density"] == "comfortable"
