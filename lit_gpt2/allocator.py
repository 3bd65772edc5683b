"""The host allocator tuned for training on CPUs: freed memory kept for the next step.

A training step on a CPU allocates its activations and gradients afresh (PyTorch's CPU allocator is
the C library's ``malloc``) and frees them by the step's end. glibc's ``malloc`` serves blocks of more
than its mmap threshold (128 KiB, raised on the fly) with fresh pages from the kernel and gives the top
of its heap back when more than its trim threshold is free, so the next step's blocks are new pages
again, each faulted in on first touch: for the quickstart's model under the Trainer, 734 faults and
2.8 ms of kernel time a step, against 13 and 0.5 ms with this (``python -m bench.allocator``). With
both thresholds raised, blocks up to 32 MiB come from a heap that keeps up to 1 GiB free, and the
second step onwards reuses warm pages. Memory freed during training then stays with the process until
it ends (it is reused, not leaked). The arithmetic is untouched. PyTorch's CPU tuning guide gets the
same by preloading jemalloc or tcmalloc.
"""

import ctypes
import ctypes.util
import functools

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024**2  # glibc's largest on 64-bit systems; larger blocks still come from mmap
TRIM_THRESHOLD = 1024**3


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (once); False where the C library has no
    ``mallopt`` (macOS, Windows) or refuses the values, and nothing changed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # The mmap threshold first: setting either ends glibc's raising of it on the fly.
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
