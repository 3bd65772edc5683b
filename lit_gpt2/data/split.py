"""Train/validation/test split by whole script, so no scene of a held-out script is ever trained on."""

import numpy as np

from lit_gpt2.errors import UserInputError


def split_by_script(
    n_scripts: int, val_fraction: float, seed: int, test_fraction: float = 0.0
) -> tuple[list[int], list[int], list[int]]:
    """Deterministic (by ``seed``) disjoint train, validation and test script indices covering every script.

    Validation gets ``round(n * val_fraction)`` scripts, test ``round(n * test_fraction)`` (none when
    ``test_fraction`` is 0), each at least one, and training keeps at least one. Validation is drawn
    first, so adding a test split leaves the validation scripts of a seed unchanged.
    """
    if not 0.0 < val_fraction < 1.0:
        raise UserInputError(f"data.val_fraction={val_fraction} must be between 0 and 1 (e.g. 0.1)")
    if not 0.0 <= test_fraction < 1.0 or val_fraction + test_fraction >= 1.0:
        raise UserInputError(
            f"data.test_fraction={test_fraction} must be in [0, 1) and leave scripts for training "
            f"beside data.val_fraction={val_fraction} (e.g. 0.1; 0 for no test split)"
        )
    sides = 3 if test_fraction else 2
    if n_scripts < sides:
        raise UserInputError(
            f"the corpus has {n_scripts} script(s); train, validation{' and test' if test_fraction else ''} "
            f"splits need at least {sides}: add scripts (one screenplay per .txt file, or one per row)"
            + (", or set data.test_fraction=0" if test_fraction else "")
        )
    n_val = min(n_scripts - sides + 1, max(1, round(n_scripts * val_fraction)))
    n_test = min(n_scripts - n_val - 1, max(1, round(n_scripts * test_fraction))) if test_fraction else 0
    order = np.random.default_rng(seed).permutation(n_scripts)
    val, test, train = order[:n_val], order[n_val : n_val + n_test], order[n_val + n_test :]
    return sorted(train.tolist()), sorted(val.tolist()), sorted(test.tolist())
