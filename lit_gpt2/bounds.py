"""Bounded number types for the typed ``__init__`` arguments that are the config schema.

jsonargparse refuses a value out of bounds when the CLI parses it, before anything is built, and
``--help`` and ``--print_config`` name the type beside the option (``type: PositiveFloat``).
"""

from jsonargparse.typing import (
    ClosedUnitInterval,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    restricted_number_type,
)

# AdamW's betas: 1 would never forget (a division by zero in its bias correction), below 0 is meaningless.
UnitIntervalOpenRight = restricted_number_type("UnitIntervalOpenRight", float, [(">=", 0), ("<", 1)])

__all__ = [
    "ClosedUnitInterval",
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "PositiveInt",
    "UnitIntervalOpenRight",
    "plain",
]


def plain(value: float | int) -> float | int:
    """The builtin number behind a bounded one: hyperparameters are saved in checkpoints, which load with
    ``weights_only=True`` and so may hold plain numbers only, not jsonargparse's classes."""
    return int(value) if isinstance(value, int) else float(value)
