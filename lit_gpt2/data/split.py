"""Train/validation split by whole script, so no scene of a validation script is ever trained on."""

import numpy as np

from lit_gpt2.errors import UserInputError


def split_by_script(n_scripts: int, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Deterministic (by ``seed``) disjoint train and validation script indices covering every script.

    At least one script goes to each side; the validation side gets ``round(n * val_fraction)``.
    """
    if not 0.0 < val_fraction < 1.0:
        raise UserInputError(f"data.val_fraction={val_fraction} must be between 0 and 1 (e.g. 0.1)")
    if n_scripts < 2:
        raise UserInputError(
            f"the corpus has {n_scripts} script(s); a validation split needs at least 2: add scripts "
            "(one screenplay per .txt file, or one per row)"
        )
    n_val = min(n_scripts - 1, max(1, round(n_scripts * val_fraction)))
    order = np.random.default_rng(seed).permutation(n_scripts)
    return sorted(order[n_val:].tolist()), sorted(order[:n_val].tolist())
