"""`vigie scan --engine ray`: the pool's answers, bad input recorded, resume, a lost worker's files retried.

The tests share one local Ray of 2 CPUs: the head CI started (tests/services.py, VIGIE_TEST_RAY), or one of their
own in its own temporary folder, shut down by them: never `ray stop`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes
from ray_head import SERVER_ENV as RAY_ENV
from ray_head import ray_head
from test_scan import hostile  # noqa: F401  (the fixture: everything that goes wrong in real seizures)
from test_scan_lifecycle import _evidence, _only_bad_one_failed

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import build_demo, draw_picture
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import SqliteCaseStore, open_case

try:
    import ray
except ImportError:
    ray = None
needs_ray = pytest.mark.skipif(ray is None, reason="Ray is not installed (the `cluster` extra): the Ray engine "
                               "is not tested")


def test_without_ray_the_ray_engine_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as where the extra is not installed
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "a.jpg").write_bytes(jpeg_bytes(draw_picture(1, (64, 48))))
    result = CliRunner().invoke(main, ["scan", str(tmp_path / "ev"), "--case", str(tmp_path / "case"),
                                       "--engine", "ray"])
    assert result.exit_code == 2
    assert "pip install 'vigie[cluster]'" in result.output


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A local Ray of 2 CPUs that the scans of a test use as it is (ray_engine leaves a running Ray alone); its
    workers misbehave on marked pictures (tests/ray_misbehave.py)."""
    path = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
    runtime_env = {"env_vars": {"PYTHONPATH": path}, "worker_process_setup_hook": "ray_misbehave.install"}
    if os.environ.get(RAY_ENV):  # the head CI started (tests/services.py)
        ray.init(address=os.environ[RAY_ENV], log_to_driver=False, runtime_env=runtime_env)
        temp = None
    else:
        temp = tempfile.mkdtemp(prefix="vigie-ray-test-")  # short: Ray's socket paths must fit in 107 bytes
        ray.init(address="local", num_cpus=2, _temp_dir=temp, include_dashboard=False, log_to_driver=False,
                 runtime_env=runtime_env)
    try:
        yield ray
    finally:
        ray.shutdown()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


def _pictures(root: Path, count: int, side: int = 320) -> None:
    root.mkdir()
    for seed in range(count):
        (root / f"{seed:04d}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (side, side * 3 // 4))))


def _scan(evidence: Path, case: Path | str, *options: str, env: dict[str, str] | None = None) -> str:
    """`vigie scan` as a user runs it, in a process of its own (a pool forked from this test process would
    inherit whatever earlier tests left in it); its progress (stderr)."""
    command = [sys.executable, "-m", "vigie.cli", "scan", str(evidence), "--case", str(case), "--workers", "2",
               *options]
    if "ray" in options and "--ray-address" not in options and os.environ.get(RAY_ENV):
        command += ["--ray-address", os.environ[RAY_ENV]]  # the head CI started (tests/services.py)
    scanned = subprocess.run(command, capture_output=True, text=True, timeout=300,
                             env=env or {**os.environ, "RAY_ADDRESS": ""})
    assert scanned.returncode == 0, scanned.stderr
    return scanned.stderr


def _normalised_report(case: Path | str) -> dict[str, Any]:
    """The JSON report less what differs between two scans of the same files: times, the case's name, the
    order items were stored in (item and stack ids)."""
    store = open_case(case)
    try:
        report = json.loads(render(store, "json"))
    finally:
        store.close()
    for key in ("path", "created_at", "generated_at", "audit_head"):
        report["case"].pop(key)
    for hash_list in report["case"]["hash_lists"]:
        hash_list.pop("imported_at")
    stacks: dict[int, list[str]] = {}
    for item in report["items"]:
        item.pop("atime")
        if item["stack"]:
            stacks.setdefault(item["stack"]["id"], []).append(item["path"])
    for item in report["items"]:
        if item["stack"]:
            item["stack"]["id"] = sorted(stacks[item["stack"]["id"]])
    report["items"] = sorted(report["items"], key=lambda item: str(item["path"]))
    return report


@pytest.mark.slow
@needs_ray
def test_a_ray_scan_of_the_demo_gives_the_pool_answers(tmp_path: Path) -> None:
    """Through the command, as a user runs it: a local Ray started for the scan and shut down by it."""
    layout = build_demo(tmp_path / "demo")
    _scan(layout.evidence, tmp_path / "pool", "--hashlist", str(layout.hashlist))
    progress = _scan(layout.evidence, tmp_path / "ray", "--hashlist", str(layout.hashlist), "--engine", "ray")
    assert "files/s" in progress, "progress shows each node's files and rate per worker"
    pool, on_ray = _normalised_report(tmp_path / "pool"), _normalised_report(tmp_path / "ray")
    assert pool["summary"]["exact_matched_items"] > 0 and pool["summary"]["items_with_errors"] > 0
    assert on_ray == pool


@pytest.mark.slow
@needs_ray
def test_hostile_input_on_ray_is_recorded_as_by_the_pool(tmp_path: Path, hostile: Path) -> None:  # noqa: F811
    for case in ("pool", "ray"):
        (tmp_path / case).mkdir()
        (tmp_path / case / "vigie.toml").write_text("max_image_pixels = 100_000_000\nratio_floor_bytes = 1_048_576\n")
    _scan(hostile, tmp_path / "pool")
    _scan(hostile, tmp_path / "ray", "--engine", "ray")
    on_ray = _normalised_report(tmp_path / "ray")
    assert on_ray == _normalised_report(tmp_path / "pool")
    errors = {i["path"].removeprefix(f"{hostile}/"): " ".join(e["message"] for e in i["errors"])
              for i in on_ray["items"]}
    assert "truncated" in errors["truncated.jpg"] and "compression ratio" in errors["zip-bomb.zip!/zeros.bin"]


@pytest.mark.slow
@needs_ray
def test_an_interrupted_ray_scan_resumes(tmp_path: Path, local_ray: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _pictures(tmp_path / "ev", 70)  # three units of files
    store = open_case(tmp_path / "case", create=True)
    add_items = SqliteCaseStore.add_items
    calls = []

    def interrupted(self: SqliteCaseStore, *args: Any) -> list[int]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return add_items(self, *args)

    monkeypatch.setattr(SqliteCaseStore, "add_items", interrupted)
    from vigie.scan.ray_engine import RayEngine

    with pytest.raises(KeyboardInterrupt):
        run_scan(store, [str(tmp_path / "ev")], Settings(workers=2), engine=RayEngine(local_ray))
    monkeypatch.undo()
    first = len(store.item_ids())
    assert 0 < first < 70
    again = run_scan(store, [str(tmp_path / "ev")], Settings(workers=2), engine=RayEngine(local_ray))
    assert (again.files_skipped, again.items_added) == (first, 70 - first)
    assert len(store.item_ids()) == 70
    store.close()


def _running_tasks() -> list[int]:
    """Ray workers busy with a scan's task: Ray titles a worker process with the function it runs."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"ray::_analyse_unit"):
            found.append(int(pid))
    return found


@pytest.mark.slow
@needs_ray
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_scan_costs_nothing(tmp_path: Path, local_ray: Any, kind: str,
                                                request: pytest.FixtureRequest) -> None:
    """Into PostgreSQL the workers write their units themselves: one killed mid-unit (or mid-write, which
    its transaction undoes) still costs nothing."""
    _pictures(tmp_path / "ev", 96, side=480)
    case = request.getfixturevalue("postgres_case") if kind == "postgresql" else tmp_path / "case"
    store = open_case(case, create=True)
    killed: list[int] = []

    def kill_one() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for pid in _running_tasks()[:1]:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.05)

    from vigie.scan.ray_engine import RayEngine

    killer = threading.Thread(target=kill_one)
    killer.start()
    result = run_scan(store, [str(tmp_path / "ev")], Settings(workers=2), engine=RayEngine(local_ray))
    killer.join()
    assert killed, "a worker was killed while it analysed files"
    assert result.items_added == 96 and result.items_with_errors == 0, "its files were analysed on another worker"
    assert len(store.item_ids()) == 96
    store.close()


def _marked_run(tmp_path: Path, ray_: Any, mark: bytes) -> tuple[dict[str, dict[str, Any]], int]:
    """As the pool's test: 40 pictures, one of which (`bad.jpg`) makes its worker misbehave, 1 s per file."""
    from vigie.scan.ray_engine import RayEngine

    data = _evidence(tmp_path / "ev", 39)
    (tmp_path / "ev" / "bad.jpg").write_bytes(data[0][:-4] + mark)
    store = open_case(tmp_path / "case", create=True)
    result = run_scan(store, [str(tmp_path / "ev")], Settings(workers=2, file_seconds=1.0), engine=RayEngine(ray_))
    items = {Path(i["path"]).name: i for i in json.loads(render(store, "json"))["items"]}
    store.close()
    return items, result.items_added


@pytest.mark.slow
@needs_ray
def test_a_file_past_its_budget_on_ray_becomes_an_item_error(tmp_path: Path, local_ray: Any) -> None:
    items, added = _marked_run(tmp_path, local_ray, b"SLOW")
    assert "file_seconds" in _only_bad_one_failed(items, "timeout")
    assert added == 40


@pytest.mark.slow
@needs_ray
def test_a_ray_worker_stalled_in_c_code_is_ended_and_costs_only_its_file(tmp_path: Path, local_ray: Any) -> None:
    items, added = _marked_run(tmp_path, local_ray, b"STALL")
    message = _only_bad_one_failed(items, "timeout")
    assert "did not respond" in message and "file_seconds" in message
    assert added == 40


@pytest.mark.slow
@needs_ray
def test_a_file_that_crashes_every_ray_worker_costs_only_its_file(tmp_path: Path, local_ray: Any) -> None:
    items, added = _marked_run(tmp_path, local_ray, b"CRASH")
    assert "worker process analysing this file died" in _only_bad_one_failed(items, "crash")
    assert added == 40


@pytest.mark.slow
@needs_ray
def test_a_scan_runs_on_the_cluster_at_ray_address(tmp_path: Path) -> None:
    """A head started here with token authentication; the scan connects to it and ships its own package to its
    workers."""
    env = {**os.environ, "RAY_ADDRESS": ""}
    env.pop("PYTHONPATH", None)  # the head's workers get vigie from the scan, not from here
    layout = build_demo(tmp_path / "demo")
    with ray_head(env) as head:
        _scan(layout.evidence, tmp_path / "case", "--hashlist", str(layout.hashlist), "--engine", "ray",
              "--ray-address", head.address,
              env={**env, **head.client_env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    _scan(layout.evidence, tmp_path / "pool", "--hashlist", str(layout.hashlist))
    assert _normalised_report(tmp_path / "case") == _normalised_report(tmp_path / "pool")


@pytest.mark.slow
@needs_ray
def test_evidence_missing_on_a_worker_stops_the_scan_with_one_clear_line(
    tmp_path: Path, local_ray: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vigie.scan.pipeline
    from vigie.errors import VigieError
    from vigie.scan.ray_engine import RayEngine

    _pictures(tmp_path / "ev", 3)
    listed = vigie.scan.pipeline.open_source

    class Elsewhere:  # listed here, but its root is not mounted on the workers
        def __init__(self, given: str) -> None:
            self.listed, self.root = listed(given), str(tmp_path / "not-mounted")
            self.kind = self.listed.kind

        def entries(self) -> Any:
            return self.listed.entries()

    monkeypatch.setattr(vigie.scan.pipeline, "open_source", Elsewhere)
    store = open_case(tmp_path / "case", create=True)
    with pytest.raises(VigieError, match=r"cannot be found on the Ray worker .*mount it at the same path"):
        run_scan(store, [str(tmp_path / "ev")], Settings(workers=2), engine=RayEngine(local_ray))
    store.close()


def test_evidence_given_by_a_path_that_is_not_utf8_is_scanned_on_ray(tmp_path: Path) -> None:
    """Ray names the job by the process's command line, sent as UTF-8: a path with a byte that is not refused
    to start Ray at all, where the pool scans it."""
    evidence = tmp_path / os.fsdecode(b"saisie-\xe9")
    _pictures(evidence, 2)
    case = tmp_path / "case"
    _scan(evidence, case, "--engine", "ray")
    assert len(_normalised_report(case)["items"]) == 2
