"""Previous-token, duplicate-token and induction scores of every head (docs/head-scores.md).

TransformerLens's head detector, with its "mul" error measure: a head's score is the share of its
attention that falls where an ideal head of that kind would look. Attention to the first token (the
``<|endoftext|>`` the probe starts with) is left out, as TransformerLens's ``exclude_bos=True`` does:
heads park attention there whenever their pattern does not apply.
"""

from collections.abc import Sequence

import torch


def repeated_random_tokens(length: int, candidates: Sequence[int], bos_token_id: int, seed: int = 0) -> list[int]:
    """``bos`` then ``length`` tokens drawn at random from ``candidates`` (BOS excluded), then the same
    tokens again: the probe on which induction heads show (in the second half, each token's earlier
    copy says what came next)."""
    if length < 2:
        raise ValueError(f"length={length} must be at least 2")
    pool = torch.tensor(sorted({t for t in candidates if t != bos_token_id}))
    if len(pool) == 0:
        raise ValueError("no candidate tokens besides BOS")
    generator = torch.Generator().manual_seed(seed)
    half = pool[torch.randint(len(pool), (length,), generator=generator)].tolist()
    return [bos_token_id, *half, *half]


def previous_token_pattern(length: int) -> torch.Tensor:
    """Ideal previous-token head: row i looks at i - 1."""
    return torch.diag(torch.ones(length - 1), diagonal=-1)


def duplicate_token_pattern(tokens: torch.Tensor) -> torch.Tensor:
    """Ideal duplicate-token head: row i looks at every earlier j holding the same token."""
    same = tokens[:, None] == tokens[None, :]
    return torch.tril(same, diagonal=-1).float()


def induction_pattern(tokens: torch.Tensor) -> torch.Tensor:
    """Ideal induction head: row i looks at j whose previous token j - 1 is an earlier copy of token i
    (the token that followed the last time), i.e. the duplicate pattern shifted one key to the right."""
    duplicate = duplicate_token_pattern(tokens)
    shifted = torch.zeros_like(duplicate)
    shifted[:, 1:] = duplicate[:, :-1]
    return torch.tril(shifted)


def detection_patterns(tokens: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three ideal (T, T) patterns for one sequence of token ids."""
    return {
        "previous_token": previous_token_pattern(len(tokens)),
        "duplicate_token": duplicate_token_pattern(tokens),
        "induction": induction_pattern(tokens),
    }


def head_score(attention: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """Share of attention on the ideal pattern, the first key left out: sum(A * P) / sum(A).

    ``attention``: (..., T, T), one sequence's pattern per head; returns (...). 0 when all attention
    is on the first key.
    """
    kept = attention.double().clone()
    kept[..., :, 0] = 0
    total = kept.sum(dim=(-2, -1))
    on_pattern = (kept * pattern.to(kept)).sum(dim=(-2, -1))
    return torch.where(total > 0, on_pattern / total.clamp(min=torch.finfo(kept.dtype).tiny), 0.0)


def head_scores(attentions: Sequence[torch.Tensor], tokens: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every kind's score for every head: ``{kind: (layers, heads)}``.

    ``attentions``: one (1, heads, T, T) tensor per layer for the single sequence ``tokens`` (T,).
    """
    patterns = detection_patterns(tokens.cpu())
    stacked = torch.stack([layer[0].cpu() for layer in attentions])  # (layers, heads, T, T)
    return {kind: head_score(stacked, pattern).float() for kind, pattern in patterns.items()}
