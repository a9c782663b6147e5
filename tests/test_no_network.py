"""A scan makes no network call of its own and writes nothing outside the case and the temp directory.

`vigie scan` runs in a subprocess whose home, caches and temp directory are empty folders of the test, with
a sitecustomize that records and refuses every name lookup and Internet connection made from Python. The
native libraries (onnxruntime's telemetry, c2pa) resolve names in C: their files under the home folder are
the evidence here, and strace, where it is installed, watches their sockets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vigie.demo.seizure import draw_picture, write_video

SRC = Path(__file__).resolve().parents[1] / "src"

SITECUSTOMIZE = '''
import os
import socket

_LOG = os.environ["VIGIE_TEST_NETWORK_LOG"]


def _record(line):
    with open(_LOG, "a") as log:
        log.write(line + "\\n")


def _refuse(what, original, inet_only=False):
    def refused(*args, **kwargs):
        if inet_only and args[0].family not in (socket.AF_INET, socket.AF_INET6):
            return original(*args, **kwargs)  # local sockets (process pools) are no network
        _record(f"{what} {args[:3]!r}")
        raise OSError(f"network refused by the test: {what}")
    return refused


for _name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "create_connection"):
    setattr(socket, _name, _refuse(_name, getattr(socket, _name)))
for _name in ("connect", "connect_ex", "sendto"):
    setattr(socket.socket, _name, _refuse(_name, getattr(socket.socket, _name), inet_only=True))
_record(f"loaded {os.getpid()}")
'''


def _evidence(folder: Path) -> None:
    folder.mkdir()
    draw_picture(1, (320, 240)).save(folder / "drawn.jpg", quality=90)
    draw_picture(2, (200, 160)).save(folder / "drawn.png")
    # a video goes through PyAV and the C2PA reader
    write_video(folder / "clip.mp4", [draw_picture(3, (160, 120)), draw_picture(4, (160, 120))],
                seconds_each=1.0, fps=5)


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _scan(tmp_path: Path, prefix: list[str] | None = None) -> tuple[Path, dict[str, Path]]:
    places = {name: tmp_path / name for name in ("home", "tmp", "cwd", "site")}
    for place in places.values():
        place.mkdir()
    (places["site"] / "sitecustomize.py").write_text(SITECUSTOMIZE)
    _evidence(tmp_path / "evidence")
    network_log = tmp_path / "network.log"
    home = places["home"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(places["tmp"]),
        "PYTHONPATH": os.pathsep.join([str(places["site"]), str(SRC)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "VIGIE_TEST_NETWORK_LOG": str(network_log),
        # a login's name, the CLI's examiner: without it the CLI asks the account database (through nscd where
        # that runs), a lookup of who runs it, not of the network
        "LOGNAME": "examiner",
    }
    command = [sys.executable, "-m", "vigie.cli", "scan", str(tmp_path / "evidence"),
               "--case", str(tmp_path / "case"), "--workers", "2"]
    result = subprocess.run((prefix or []) + command, cwd=places["cwd"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return network_log, places


def test_scan_makes_no_lookup_and_writes_only_the_case(tmp_path: Path) -> None:
    network_log, places = _scan(tmp_path)
    calls = network_log.read_text().splitlines()
    assert any(line.startswith("loaded") for line in calls), "the recording sitecustomize did not run"
    assert [line for line in calls if not line.startswith("loaded")] == []
    # onnxruntime's telemetry wrote ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid and $TMPDIR/.ses
    assert _files_under(places["home"]) == []
    assert _files_under(places["tmp"]) == []
    assert _files_under(places["cwd"]) == []
    assert (tmp_path / "case").is_dir()


def _strace(trace: Path) -> list[str]:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed")
    if subprocess.run(["strace", "-o", os.devnull, "true"], capture_output=True).returncode != 0:
        pytest.skip("strace cannot trace here (no ptrace permission)")
    return ["strace", "-f", "-e", "trace=socket,connect,sendto,sendmsg", "-o", str(trace)]


def _internet(trace: Path) -> list[str]:
    """Internet sockets and name-service lookups (nscd, DNS) in an strace log; local sockets pass."""
    return [line for line in trace.read_text().splitlines() if re.search(r"AF_INET6?\b|nscd|sin6?_port", line)]


def test_scan_opens_no_internet_socket_under_strace(tmp_path: Path) -> None:
    trace = tmp_path / "strace.log"
    _scan(tmp_path, _strace(trace))
    assert _internet(trace) == []


@pytest.mark.slow
def test_detector_session_left_open_resolves_nothing(tmp_path: Path) -> None:
    """onnxruntime's uploader resolved its collector about ten seconds after loading: a scan ends sooner,
    a long scan does not. A detector is loaded and kept open for longer than that, under strace."""
    trace, home = tmp_path / "strace.log", tmp_path / "home"
    home.mkdir()
    program = "import time; from vigie.detector.runtime import load_detector; d = load_detector(); time.sleep(15)"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "TMPDIR": str(home),
           "PYTHONPATH": str(SRC), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([*_strace(trace), sys.executable, "-c", program], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _internet(trace) == []
    assert _files_under(home) == []
