"""Measurement only: each Python thread of a process started with this directory on PYTHONPATH
gives its name to the kernel (``prctl(PR_SET_NAME)``, 15 bytes), so ``/proc/PID/task/TID/comm``
and ``top -H`` tell the threads apart. benchmarks/cluster/node_resources.py ``--threads`` uses it."""

import ctypes
import threading

PR_SET_NAME = 15

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: nothing to name
    _prctl = None

_bootstrap_inner = threading.Thread._bootstrap_inner


def _named_bootstrap(self):
    if _prctl is not None:
        _prctl(PR_SET_NAME, self.name.encode("utf-8", "replace")[:15], 0, 0, 0)
    _bootstrap_inner(self)


threading.Thread._bootstrap_inner = _named_bootstrap
