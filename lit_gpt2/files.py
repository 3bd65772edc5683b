"""Writing folders so that a reader never sees half of one: written beside their place, then renamed."""

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_atomically(directory: Path) -> Iterator[Path]:
    """Yield a scratch folder beside ``directory``; when the block ends without an error it takes
    ``directory``'s place (an older folder there is removed only after that), else it is deleted.

    An interrupted or failed write (a full disk, Ctrl-C) leaves the old folder, or none, never a mix.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{socket.gethostname()}-{os.getpid()}"
    work = directory.with_name(f".{directory.name}.partial-{tag}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        yield work
        old = directory.with_name(f".{directory.name}.old-{tag}")
        if directory.exists():
            directory.rename(old)
        work.rename(directory)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
