"""Attention statistics, exactly as ``docs/attention-statistics.md`` defines them.

Input: one layer's eager attention ``A`` of shape (batch, heads, T, T) from an eval-mode forward pass,
and the batch's ``attention_mask`` (batch, T) with left padding. Row i is a distribution over keys
j <= i; the first real token of example b is ``s_b = attention_mask[b].argmax()``. Every statistic is
a mean over valid query rows (i >= s_b) of every example, per head: a (heads,) tensor.
"""

import torch

# Per layer and head: mean over valid query rows.
STATISTICS = (
    "first_token_mass",
    "entropy",
    "normalised_entropy",
    "mean_distance",
    "mean_distance_no_first",
    "previous_token_mass",
    "self_mass",
)


def _positions(attention: torch.Tensor, attention_mask: torch.Tensor | None):
    batch, _, length, _ = attention.shape
    mask = attention_mask if attention_mask is not None else torch.ones(batch, length, dtype=torch.long)
    first = mask.to(attention.device).long().argmax(dim=1)  # s_b
    rows = torch.arange(length, device=attention.device)
    relative = rows[None, :] - first[:, None]  # i - s_b: the row's position within its example
    return first, relative


def _row_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean over (batch, rows) of a (batch, heads, T) tensor where ``valid`` (batch, T) holds."""
    weights = valid[:, None, :].to(values.dtype)
    return (values * weights).sum(dim=(0, 2)) / weights.sum(dim=(0, 2)).clamp(min=1)


def attention_statistics(
    attention: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """Every statistic of ``STATISTICS`` for one layer, each a (heads,) tensor."""
    attention = attention.double()
    batch, heads, length, _ = attention.shape
    first, relative = _positions(attention, attention_mask)
    valid = relative >= 0
    after_first = relative >= 1
    rows = torch.arange(length, device=attention.device)
    index = first[:, None, None, None].expand(batch, heads, length, 1)
    first_mass = attention.gather(3, index).squeeze(3)
    plogp = torch.where(attention > 0, attention * attention.log(), torch.zeros_like(attention))
    entropy = -plogp.sum(dim=3)
    log_span = torch.log((relative + 1).clamp(min=1).to(attention.dtype))[:, None, :]
    normalised = torch.where(after_first[:, None, :], entropy / log_span.clamp(min=1e-12), torch.zeros_like(entropy))
    distance = (rows[:, None] - rows[None, :]).clamp(min=0).to(attention.dtype)  # i - j for j <= i
    weighted_distance = (attention * distance).sum(dim=3)
    row_mass = attention.sum(dim=3)
    # Without the first token, each row renormalised to sum to 1; a row with nothing left drops out.
    no_first = attention.scatter(3, index, 0.0)
    no_first_mass = no_first.sum(dim=3)
    has_rest = (no_first_mass > 0).to(attention.dtype)
    no_first_distance = (no_first * distance).sum(dim=3) / no_first_mass.clamp(min=torch.finfo(attention.dtype).tiny)
    previous = torch.diagonal(attention, offset=-1, dim1=2, dim2=3)  # A[i, i-1] for i >= 1
    previous = torch.cat([torch.zeros_like(previous[..., :1]), previous], dim=2)
    weights = valid[:, None, :].to(attention.dtype)
    return {
        "first_token_mass": _row_mean(first_mass, valid),
        "entropy": _row_mean(entropy, valid),
        "normalised_entropy": _row_mean(normalised, after_first),
        # Vig & Belinkov 2019, Eq. 6: a ratio of sums over every valid row, not a mean of per-row ratios.
        "mean_distance": (weighted_distance * weights).sum(dim=(0, 2)) / (row_mass * weights).sum(dim=(0, 2)),
        "mean_distance_no_first": (no_first_distance * weights).sum(dim=(0, 2))
        / (has_rest * weights).sum(dim=(0, 2)).clamp(min=1),
        "previous_token_mass": _row_mean(previous, after_first),
        "self_mass": _row_mean(torch.diagonal(attention, dim1=2, dim2=3), valid),
    }


def attention_rollout(attentions: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Abnar & Zuidema 2020: per layer mean over heads, add identity, renormalise rows, multiply through.

    ``attentions``: one (batch, heads, T, T) tensor per layer, first layer first. Returns (batch, T, T).
    """
    rollout = None
    for attention in attentions:
        mixed = attention.double().mean(dim=1)
        mixed = mixed + torch.eye(mixed.shape[-1], dtype=mixed.dtype, device=mixed.device)
        mixed = mixed / mixed.sum(dim=-1, keepdim=True)
        rollout = mixed if rollout is None else mixed @ rollout
    if rollout is None:
        raise ValueError("attention_rollout needs the attention of at least one layer")
    return rollout


def classify_heads(
    stats: dict[str, torch.Tensor],
    previous_threshold: float = 0.5,
    sink_threshold: float = 0.5,
    broad_threshold: float = 0.8,
) -> dict[str, list[tuple[int, int]]]:
    """(layer, head) pairs per class, from per-layer statistics stacked to (layers, heads) tensors."""

    def where(values: torch.Tensor, threshold: float) -> list[tuple[int, int]]:
        return [(int(layer), int(head)) for layer, head in (values > threshold).nonzero().tolist()]

    return {
        "previous_token": where(stats["previous_token_mass"], previous_threshold),
        "sink": where(stats["first_token_mass"], sink_threshold),
        "broad": where(stats["normalised_entropy"], broad_threshold),
    }
