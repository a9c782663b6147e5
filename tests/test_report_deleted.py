"""The HTML report says which matched file was read from a disk image as a deleted file, as the JSON report's
`deleted` and the console do: the report `vigie scan` suggests next showed the deleted photo's path only."""

from __future__ import annotations

import html
import re
from pathlib import Path

from vigie.exports.report import render
from vigie.i18n import language
from vigie.store.sqlite import open_case


def test_the_html_report_flags_a_matched_file_read_as_deleted(demo_case: Path) -> None:
    store = open_case(demo_case)
    try:
        matched = sorted(location[0] for location in store.matched_image_locations())
        with store.db:  # as a disk image's deleted file would be recorded
            store.db.execute("UPDATE items SET deleted = 1 WHERE id = ?", (matched[0],))
        (path,) = [i["path"] for i in store.iter_report_items([matched[0]])]
        page, french = (html.unescape(re.sub(r"<[^>]+>", "", render(store, "html", lang=language(code))))
                        for code in ("en", "fr"))
    finally:
        store.close()
    assert f"{path} (read from the disk image as a deleted file)" in page
    assert page.count("read from the disk image as a deleted file") == 1
    assert "(lu dans l'image disque comme fichier supprimé)" in french
