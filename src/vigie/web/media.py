"""Images and videos, by item id only. Thumbnails are blurred on the server with the user's settings; the
clear picture is served only for an item this session asked to reveal (which app.py has audited)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from PIL import Image
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import wrap_file

from vigie.config import Settings
from vigie.i18n import N_
from vigie.records import ItemLocation
from vigie.signals.image import ImageError
from vigie.signals.thumbnails import blur_image, blurred_thumbnail, revealed_copy
from vigie.sources.base import archive_depth
from vigie.sources.directory import open_source
from vigie.sources.reopen import read_item_bytes
from vigie.store.review import ReviewTables
from vigie.web import language
from vigie.web.api import view_settings

media = Blueprint("media", __name__)
UNREADABLE = N_("the evidence file cannot be read now")
NEVER_READ = N_("this file was not read when it was scanned (its errors say why): nothing to show")
CHANGED = N_("the evidence file changed since it was scanned: not shown (vigie verify lists what changed)")


class _ThumbCache:
    """Recent blurred thumbnails, so paging back and forth does not reread the evidence."""

    def __init__(self, capacity: int = 4000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: tuple[Any, ...], value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


_thumbs = _ThumbCache()


def _jpeg(data: bytes) -> Response:
    return Response(data, mimetype="image/jpeg")


def _location(item_id: int) -> ItemLocation:
    location = ReviewTables(g.store).location(item_id)
    if location is None:
        abort(404)
    return location


def _as_scanned(location: ItemLocation, settings: Settings) -> tuple[bytes | None, Any]:
    """The item's picture read again, or why it is not shown: unreadable now, or other bytes than those the
    scan read (a file replaced since: a reviewer must never decide on what the case does not record)."""
    if location.sha256 is None:
        return None, (jsonify(error=language.said(NEVER_READ)), 404)
    raw = read_item_bytes(location.root, location.relpath, settings, settings.max_image_bytes)
    if raw is None:
        return None, (jsonify(error=language.said(UNREADABLE)), 404)
    if hashlib.sha256(raw).hexdigest() != location.sha256:
        return None, (jsonify(error=language.said(CHANGED)), 409)
    return raw, None


@media.get("/media/<int:item_id>/thumb")
def thumbnail(item_id: int) -> Any:
    location = _location(item_id)
    media_type = location.media_type or ""
    view = view_settings()
    key = (str(current_app.config["VIGIE_CASE"]), item_id, view["blur"], view["greyscale"])
    cached = _thumbs.get(key)
    if cached is not None:
        return _jpeg(cached)
    settings: Settings = current_app.config["VIGIE_SETTINGS"]
    if media_type.startswith("video/"):
        stills = g.store.video_stills(item_id)
        if not stills:
            return jsonify(error=language.said(N_("this video has no still to show"))), 404
        data = _blurred_still(stills[len(stills) // 2][2], view)
    elif media_type.startswith("image/"):
        raw, refused = _as_scanned(location, settings)
        if raw is None:
            return refused
        try:
            data = blurred_thumbnail(raw, blur_fraction=view["blur"], greyscale=view["greyscale"],
                                     max_pixels=settings.max_image_pixels)
        except ImageError as exc:
            return jsonify(error=language.said(N_("no thumbnail: %(why)s"), why=exc)), 404
    else:
        abort(404)
    _thumbs.put(key, data)
    return _jpeg(data)


def _blurred_still(jpeg: bytes, view: dict[str, Any]) -> bytes:
    # stills are stored blurred and greyscale already; this applies the user's blur on top
    with Image.open(io.BytesIO(jpeg)) as still:
        return blur_image(still, blur_fraction=view["blur"])


@media.get("/media/<int:item_id>/still/<int:index>")
def still(item_id: int, index: int) -> Any:
    """The `index`-th stored still of a video, blurred as its thumbnail is: the large view's scrub bar."""
    _location(item_id)
    stills = g.store.video_stills(item_id)
    if index >= len(stills):
        abort(404)
    return _jpeg(_blurred_still(stills[index][2], view_settings()))


def _face_crop(face_id: int) -> tuple[int, bytes]:
    found = g.store.face_crop(face_id)
    if found is None:
        abort(404)
    item_id, crop = found
    if crop is None:
        purged = language.said(N_("this face's crop was removed: the case's face data was purged"))
        abort(Response(json.dumps({"error": purged}), 404, mimetype="application/json"))
    return item_id, crop


@media.get("/media/faces/<int:face_id>/thumb")
def face_thumbnail(face_id: int) -> Any:
    """A face's crop blurred with the user's settings, as thumbnails are."""
    _, crop = _face_crop(face_id)
    view = view_settings()
    settings: Settings = current_app.config["VIGIE_SETTINGS"]
    try:
        return _jpeg(blurred_thumbnail(crop, blur_fraction=view["blur"], greyscale=view["greyscale"],
                                       max_pixels=settings.max_image_pixels))
    except ImageError as exc:
        return jsonify(error=language.said(N_("no thumbnail: %(why)s"), why=exc)), 404


@media.get("/media/faces/<int:face_id>/full")
def face_full(face_id: int) -> Any:
    """A face's crop in clear, only while its item is revealed to this session (a reveal app.py audited)."""
    item_id, crop = _face_crop(face_id)
    if not g.accounts.is_revealed(g.session, item_id):
        return jsonify(error=language.said(N_("reveal this item first"))), 403
    settings: Settings = current_app.config["VIGIE_SETTINGS"]
    try:
        return _jpeg(revealed_copy(crop, settings.max_image_pixels))
    except ImageError as exc:
        return jsonify(error=language.said(N_("cannot show this face: %(why)s"), why=exc)), 404


@media.get("/media/<int:item_id>/full")
def full(item_id: int) -> Any:
    location = _location(item_id)
    media_type = location.media_type or ""
    if not g.accounts.is_revealed(g.session, item_id):
        return jsonify(error=language.said(N_("reveal this item first"))), 403
    settings: Settings = current_app.config["VIGIE_SETTINGS"]
    if media_type.startswith("video/"):
        return _video(location.root, location.relpath, media_type, settings)
    if not media_type.startswith("image/"):
        abort(404)
    raw, refused = _as_scanned(location, settings)
    if raw is None:
        return refused
    try:
        return _jpeg(revealed_copy(raw, settings.max_image_pixels))
    except ImageError as exc:
        return jsonify(error=language.said(N_("cannot show this image: %(why)s"), why=exc)), 404


def _video(root: str, relpath: str, media_type: str, settings: Settings) -> Any:
    """The video as it is, in the byte ranges the browser asks for as it plays and seeks (206), read from the
    evidence file as sent. A video inside an archive is first read into memory (bounded by
    max_member_video_bytes), as archive members cannot be read from the middle."""
    stream: Any
    if archive_depth(relpath):  # a member (the source's open() gives the archive), read through reopen
        raw = read_item_bytes(root, relpath, settings, settings.max_member_video_bytes)
        if raw is None:
            return jsonify(error=language.said(UNREADABLE)), 404
        stream, size = io.BytesIO(raw), len(raw)
    else:
        try:
            stream = open_source(root).open(relpath)
            size = os.fstat(stream.fileno()).st_size
        except OSError:
            return jsonify(error=language.said(UNREADABLE)), 404
    response = Response(wrap_file(request.environ, stream), mimetype=media_type, direct_passthrough=True)
    response.content_length = size
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        stream.close()
        raise
