"""The one exception type for mistakes a user can fix.

The CLI prints its message as a single line and exits non-zero instead of showing a traceback,
so every message must name the problem and the fix.
"""


class UserInputError(ValueError):
    """Bad input (config, data, checkpoint) that the user can correct."""


class TrainingDiverged(UserInputError):
    """The loss became NaN or infinite; the message names the step and the checkpoint to resume from."""
