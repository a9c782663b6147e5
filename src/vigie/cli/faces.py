"""`vigie faces`: faces into persons, and where a given person's face was used."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from vigie.cli.common import ID, _t, case_option, case_store, examiner, out, progress_bars
from vigie.config import load_settings
from vigie.errors import VigieError
from vigie.signals.faces import check_models


@click.group()
def faces() -> None:
    """Group a case's faces into persons, and find where a given person's face was used.

    Faces are found by `vigie scan --faces`. Embeddings stay in the case; `vigie faces purge`
    removes them. Every search is written to the audit log.
    """


@faces.command("scan")
@case_option
@click.option("--face-detector", type=click.Choice(["hog", "yunet"]),
              help="Face detector [default: hog, or yunet with --face-model].")
@click.option("--face-model", type=click.Path(exists=True, dir_okay=False), help="YuNet ONNX file (selects yunet).")
def faces_scan(case: Path, face_detector: str | None, face_model: str | None) -> None:
    """Add faces to the images of a case scanned without --faces.

    Each image is read again, read-only, from the evidence, and searched only if its SHA-256 is still
    the one the scan recorded; images that cannot be are named in the case's errors. Images that
    already hold faces are skipped, so the command can be run again.
    """
    from vigie.matching.faces.rescan import scan_faces

    settings = load_settings(case, {"faces": True, "face_detector": face_detector or ("yunet" if face_model else None),
                                    "face_model": face_model})
    with case_store(case) as store:
        check_models(settings.face_detector, settings.face_model)
        with progress_bars() as progress:
            task = progress.add_task("Searching faces", total=None)
            result = scan_faces(store, settings, examiner(), lambda: progress.advance(task))
    out.print(f"{result.faces} faces in {result.images} images searched; {result.unreadable} could not be "
              "searched (see the case's errors). Next: vigie faces group --case " + str(case))


@faces.command("group")
@case_option
def faces_group(case: Path) -> None:
    """Cluster the case's faces into persons (Chinese whispers on the embedding graph).

    Only the faces added since the last grouping are looked at; the persons already stored, and the
    names reviewers gave them, are kept.
    """
    from vigie.matching.faces.grouping import group_faces
    from vigie.matching.faces.rescan import faces_searched

    with case_store(case) as store:
        grouping = group_faces(store, examiner())
        persons = store.persons()
        searched = faces_searched(store)
    table = Table("person", "name", "faces", "items", "representative face")
    for person in persons:
        table.add_row(str(person["id"]), person["name"] or "", str(person["faces"]), str(person["items"]),
                      str(person["representative_face"]))
    out.print(table)
    if grouping.index.startswith("rebuilt"):
        out.print(f"Note: the face index was {_t(grouping.index)}.")
    out.print(f"{grouping.faces} faces in {grouping.persons} persons ({grouping.new_faces} new faces grouped).")
    if not searched:  # "0 faces" would read as "no one in the seizure"
        out.print(f"Note: faces were never searched in this case. Add them with `vigie faces scan --case {_t(case)}`.")


@faces.command("name")
@click.argument("person", type=ID)
@click.argument("name")
@case_option
def faces_name(person: int, name: str, case: Path) -> None:
    """Give PERSON a NAME (kept through later groupings)."""
    from vigie.matching.faces.persons import name_person

    with case_store(case) as store:
        if not name_person(store, person, name, examiner()):
            raise VigieError(f"no person {person} in {case} (`vigie faces group` lists them)", 2)
    out.print(f"Person {person} is now {_t(repr(name.strip()))}.")


@faces.command("merge")
@click.argument("keep", type=ID)
@click.argument("absorb", type=ID)
@case_option
def faces_merge(keep: int, absorb: int, case: Path) -> None:
    """Move every face of person ABSORB into person KEEP."""
    from vigie.matching.faces.persons import merge_persons

    with case_store(case) as store:
        moved = merge_persons(store, keep, absorb, examiner())
    out.print(f"Moved {moved} faces from person {absorb} to person {keep}; later groupings keep them together.")


@faces.command("show")
@click.argument("person", type=ID)
@case_option
@click.option("--json", "as_json", is_flag=True, help='One JSON line per face: {"face", "path", "box", "placed"}.')
def faces_show(person: int, case: Path, as_json: bool) -> None:
    """List PERSON's faces: each face's id, the file it is in, its box, and whether a reviewer placed it.

    The ids are what `vigie faces split` takes.
    """
    from vigie.matching.faces.persons import person_faces

    with case_store(case) as store:
        faces, placed = person_faces(store, person)
        locations = store.face_locations(faces)
    table = Table("face", "path", "box (x, y, width, height)", "placed")
    for face in faces:
        where = locations[face]
        if as_json:
            print(json.dumps({"face": face, "path": where["path"], "box": where["box"], "placed": face in placed}))
        else:
            box = " ".join(map(str, where["box"]))
            table.add_row(str(face), _t(where["path"]), box, "yes" if face in placed else "")
    if not as_json:
        out.print(table)
        out.print(f"{len(faces)} faces in person {person}.")


@faces.command("split")
@click.argument("person", type=ID)
@click.argument("face_ids", metavar="FACE...", nargs=-1, required=True, type=ID)
@case_option
def faces_split(person: int, face_ids: tuple[int, ...], case: Path) -> None:
    """Move the faces FACE... of PERSON into a new person: the grouping joined two people.

    The face ids are those `vigie faces show PERSON` lists. Both persons' faces then stay where
    you put them through later groupings; new faces join whichever person they are like.
    """
    from vigie.matching.faces.persons import split_person

    with case_store(case) as store:
        new = split_person(store, person, list(face_ids), examiner())
    out.print(f"Moved {len(set(face_ids))} faces from person {person} to the new person {new}.")


@faces.command("find")
@case_option
@click.option("--reference", "references", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Photo of the person (repeatable; the largest face of each is used). Read, never copied.")
@click.option("--json", "as_json", is_flag=True, help='One JSON line per hit: {"path", "face", "distance", "verdict"}.')
@click.option("--all", "include_no", is_flag=True, help="Also list faces judged 'no'.")
def faces_find(case: Path, references: tuple[Path, ...], as_json: bool, include_no: bool) -> None:
    """Rank every face in the case by its distance to the reference person: match, possible or no.

    Montages count: a face pasted onto another body or scene is found like any other.
    """
    from vigie.matching.faces.persons import search_person
    from vigie.matching.faces.rescan import faces_searched

    with case_store(case) as store:
        if not faces_searched(store):  # "0 match" would read as "not in the seizure"
            raise VigieError(f"no face data in {case}: faces were never searched. Add them with `vigie faces scan "
                             f"--case {case}`.", 2)
        if purged := store.purged_faces():  # "0 match" would read as "not in the seizure" here too
            raise VigieError(f"the face data of {purged} faces in {case} was removed (`vigie faces purge`), so a "
                             f"search would miss them. Search their images again with `vigie faces scan --case "
                             f"{case}`.", 2)
        settings = load_settings(case)
        check_models(settings.face_detector, settings.face_model)
        try:
            hits = search_person(store, list(references), settings, include_no, examiner())
        except (ValueError, OSError) as exc:  # no face in a reference photo, or one unreadable
            raise VigieError(str(exc), 2) from exc
    for hit in hits:
        if as_json:
            print(json.dumps({"path": hit.path, "face": hit.face_id, "distance": hit.distance, "verdict": hit.verdict,
                              "box": hit.box}))
        else:
            out.print(f"{hit.verdict:<9} {hit.distance:.3f}  face {hit.face_id:<6} {_t(hit.path)}")
    if not as_json:
        out.print(f"{sum(h.verdict == 'match' for h in hits)} match, {sum(h.verdict == 'possible' for h in hits)} "
                  "possible.")


@faces.command("eval")
@click.argument("pairs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--threshold", type=float, help="Distance at or below which a pair is 'same' [0.55].")
@click.option("--json", "as_json", is_flag=True)
@click.option("--face-model", type=click.Path(exists=True, dir_okay=False), help="Use YuNet from this file.")
def faces_eval(pairs: Path, threshold: float | None, as_json: bool, face_model: str | None) -> None:
    """Verification accuracy on PAIRS (CSV: file_x,file_y,same; paths relative to the CSV's folder).

    A pair where a face is not found counts as wrong.
    """
    from dataclasses import asdict

    from vigie.matching.faces.persons import MATCH_DISTANCE, evaluate_pairs

    settings = load_settings(None, {"face_model": face_model, "face_detector": "yunet" if face_model else None})
    check_models(settings.face_detector, settings.face_model)
    result = evaluate_pairs(pairs, settings, MATCH_DISTANCE if threshold is None else threshold)
    if as_json:
        print(json.dumps(asdict(result)))
    else:
        out.print(f"{result.pairs} pairs, accuracy {result.accuracy:.2%} at distance {result.threshold}, "
                  f"{result.undetected} with a face not found")


@faces.command("purge")
@case_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def faces_purge(case: Path, yes: bool) -> None:
    """Remove every face embedding and face crop from the case, and the persons built from them."""
    from vigie.matching.faces.persons import purge_faces

    with case_store(case) as store:  # a path that holds no case is refused before anything is asked
        if not yes:
            click.confirm(f"Remove all face embeddings and crops from {case}?", abort=True)
        removed = purge_faces(store, examiner())
    out.print(f"Removed the embeddings and crops of {removed} faces.")


COMMANDS = [faces]
