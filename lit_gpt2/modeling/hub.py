"""Is the Hugging Face hub reachable? Asked once, quickly, so offline runs never sit in retries."""

import functools
import os
import socket
from urllib.parse import urlparse

from huggingface_hub import constants


@functools.cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """False when offline mode is set or the hub's host cannot be reached within ``timeout`` seconds.

    Without this check an offline ``from_pretrained`` retries for about a minute before failing.
    """
    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False
