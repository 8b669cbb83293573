"""The benchmarking process's own memory (Linux /proc): now, peak, and a reset of the peak."""

from __future__ import annotations

import contextlib
from pathlib import Path


def rss_reset() -> None:
    """Reset the peak RSS (VmHWM) of this process, so that a peak covers one measured run."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
