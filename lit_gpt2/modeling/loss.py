"""Next-token cross-entropy fused with the LM head, in chunks: the (tokens x 50,257) logits never exist
all at once, in any precision. For small GPT-2s the output layer dominates time and memory; this
computes the same loss and gradients as ``lm_head`` followed by ``cross_entropy``."""

import torch


class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Forward computes the loss and, chunk by chunk, the gradients; backward only scales them."""

    @staticmethod
    def forward(ctx, hidden, weight, targets, ignore_index: int, chunk_size: int):
        valid = targets != ignore_index
        n_valid = valid.sum().clamp(min=1)
        grad_hidden = torch.empty_like(hidden)
        # At least float32 for the softmax and the weight gradient (bf16 logits lose the tail).
        acc = torch.promote_types(hidden.dtype, torch.float32)
        grad_weight = torch.zeros(weight.shape, dtype=acc, device=weight.device)
        total = torch.zeros((), dtype=acc, device=hidden.device)
        for start in range(0, hidden.shape[0], chunk_size):
            h = hidden[start : start + chunk_size]
            t = targets[start : start + chunk_size]
            keep = valid[start : start + chunk_size]
            logits = (h @ weight.t()).to(acc)
            lse = torch.logsumexp(logits, dim=-1)
            rows = torch.arange(t.shape[0], device=t.device)
            safe = torch.where(keep, t, torch.zeros_like(t))
            total += ((lse - logits[rows, safe]) * keep).sum()
            # d loss / d logits = (softmax - one_hot) / n_valid on counted rows, computed in place.
            grad_logits = logits.sub_(lse[:, None]).exp_()
            grad_logits[rows, safe] -= 1.0
            grad_logits *= (keep.to(acc) / n_valid)[:, None]
            grad_hidden[start : start + chunk_size] = (grad_logits.to(h.dtype) @ weight).to(hidden.dtype)
            grad_weight += grad_logits.t() @ h.to(acc)
        ctx.save_for_backward(grad_hidden, grad_weight.to(weight.dtype))
        return total / n_valid

    @staticmethod
    def backward(ctx, grad_output):
        grad_hidden, grad_weight = ctx.saved_tensors
        return grad_hidden * grad_output, grad_weight * grad_output, None, None, None


def chunked_lm_loss(
    hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, chunk_size: int = 1024, ignore_index: int = -100
) -> torch.Tensor:
    """Mean next-token NLL: position t of ``hidden`` (batch, T, d) predicts ``labels[:, t + 1]``."""
    shifted = hidden[:, :-1].reshape(-1, hidden.shape[-1])
    targets = labels[:, 1:].reshape(-1)
    if torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        return _ChunkedLinearCrossEntropy.apply(shifted, weight, targets, ignore_index, chunk_size)
    # Evaluation: the same chunks, without the gradient work.
    acc = torch.promote_types(hidden.dtype, torch.float32)
    total = torch.zeros((), dtype=acc, device=hidden.device)
    for start in range(0, shifted.shape[0], chunk_size):
        logits = (shifted[start : start + chunk_size] @ weight.t()).to(acc)
        total += torch.nn.functional.cross_entropy(
            logits, targets[start : start + chunk_size], ignore_index=ignore_index, reduction="sum"
        )
    return total / (targets != ignore_index).sum().clamp(min=1)


def lm_loss(
    hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, vocab_multiple: int = 1, ignore_index: int = -100
) -> torch.Tensor:
    """Mean next-token NLL on full logits, as transformers computes it (in float32 at least), with the
    output layer's rows padded with zeros to a multiple of ``vocab_multiple`` for the matmul's sake; the
    padded logits are dropped before the softmax, so the loss and gradients are unchanged."""
    vocab = weight.shape[0]
    padded = -(-vocab // vocab_multiple) * vocab_multiple
    if padded != vocab:
        weight = torch.nn.functional.pad(weight, (0, 0, 0, padded - vocab))
    logits = (hidden[:, :-1] @ weight.t())[..., :vocab]
    acc = torch.promote_types(logits.dtype, torch.float32)
    return torch.nn.functional.cross_entropy(
        logits.flatten(0, 1).to(acc), labels[:, 1:].flatten(), ignore_index=ignore_index
    )
