"""Stopping ``intake run`` from a test without leaving its services behind.

``intake run`` starts each service in a session of its own, so that Ctrl-C reaches only the
supervisor, which then stops them in order. A ``kill -9`` of the supervisor therefore leaves
them running, holding their ports and the CPU for the rest of the test run. These helpers find
the services first and kill them too.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess

import psutil


def kill_tree(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """``kill -9`` the process and everything it started."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    process.kill()
    for descendant in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            descendant.kill()
    process.wait(timeout=10)
    psutil.wait_procs(descendants, timeout=10)


def interrupt_tree(
    process: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float = 30
) -> bool:
    """Ctrl-C, and after ``grace`` seconds :func:`kill_tree`. True if it stopped by itself."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill_tree(process)
        return False
    return True
