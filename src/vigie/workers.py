"""Pool worker processes: they end when the process that started them dies, even by SIGKILL.

A killed `vigie scan` would otherwise leave its workers waiting forever on a queue whose other end they
hold themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import threading
import time

from threadpoolctl import threadpool_limits

_PR_SET_PDEATHSIG = 1
_PARENT_POLL_SECONDS = 1.0


def start_worker(scan_pid: int) -> None:
    """Pool initializer: the worker ends with the scan and keeps BLAS to one thread. Vigie's own setting of
    that (vigie/__init__.py) comes too late when the program loaded numpy before vigie, and a BLAS thread per
    core in every worker made scans take up to five times their CPU time."""
    exit_with_parent(scan_pid)
    threadpool_limits(limits=1, user_api="blas")


def exit_with_parent(scan_pid: int) -> None:
    """Linux: the kernel kills the worker with its parent; elsewhere a thread watches.

    The parent is the scan, or a fork server that ends with the scan."""
    armed = _set_parent_death_signal()
    parent = os.getppid()
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), name="vigie-parent-watch", daemon=True).start()
    if parent != scan_pid and not _running(scan_pid):  # the scan died before the signal was armed
        os._exit(1)


def _running(pid: int) -> bool:
    """Alive and not a zombie: a scan killed a moment ago stays a zombie until its own parent reaps it."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except FileNotFoundError:
            return False
        except (OSError, IndexError):
            pass  # unreadable: ask the kernel, which cannot tell a zombie
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _set_parent_death_signal() -> bool:
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        prctl = ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    return bool(prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)
