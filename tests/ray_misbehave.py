"""Set up in each Ray worker of tests/test_ray_engine.py: a picture whose bytes end with a mark makes the image
analysis misbehave as a hostile file would. The pool's tests patch the same function in their forked workers;
Ray's workers are started afresh, so they are patched here, by Ray's worker set-up hook."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import vigie.signals.analysis


def _misbehave(content: bytes) -> None:
    if content.endswith(b"SLOW"):
        time.sleep(60)
    elif content.endswith(b"CRASH"):
        os._exit(3)
    elif content.endswith(b"STALL"):  # as a decoder looping in C: the budget's alarm never reaches Python code
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(600)


def install() -> None:
    original = vigie.signals.analysis.analyse_image

    def analyse(content: bytes, *args: Any) -> Any:
        _misbehave(content)
        return original(content, *args)

    vigie.signals.analysis.analyse_image = analyse  # type: ignore[assignment]
