"""Keeping freed memory: a step's large blocks come back as warm pages, not as fresh ones to fault in."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

import lit_gpt2.allocator

# Eight 4 MiB blocks allocated, written and freed five times, as a step's activations are: the page
# faults of rounds 2-5. Run in a fresh process (the allocator's settings are the process's, and this
# one's fits have set them), loading lit_gpt2/allocator.py alone (importing the package takes seconds).
ROUNDS = """
import ctypes, importlib.util, resource, sys
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = libc.memset.restype = ctypes.c_void_p
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "kept":
    spec = importlib.util.spec_from_file_location("allocator", sys.argv[2])
    allocator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(allocator)
    assert allocator.keep_freed_memory()
size = 4 * 1024**2
for round in range(5):
    if round == 1:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    blocks = [libc.malloc(size) for _ in range(8)]
    for block in blocks:
        libc.memset(block, 1, size)
    for block in blocks:
        libc.free(block)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    path = Path(lit_gpt2.allocator.__file__)
    out = subprocess.run([sys.executable, "-c", ROUNDS, mode, str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc")
def test_kept_freed_memory_serves_repeated_large_blocks_without_page_faults():
    pages = 4 * 8 * 4 * 1024**2 // 4096  # four rounds of eight 4 MiB blocks, 4 KiB pages
    assert _faults("default") > pages // 2  # glibc hands the blocks back and faults them in again
    assert _faults("kept") < pages // 100


def test_keep_freed_memory_reports_a_c_library_without_mallopt(monkeypatch):
    class NoMallopt:  # macOS's and Windows' C libraries have no mallopt
        def __init__(self, name):
            pass

    monkeypatch.setattr(lit_gpt2.allocator.ctypes, "CDLL", NoMallopt)
    lit_gpt2.allocator.keep_freed_memory.cache_clear()
    try:
        assert lit_gpt2.allocator.keep_freed_memory() is False
    finally:
        lit_gpt2.allocator.keep_freed_memory.cache_clear()
