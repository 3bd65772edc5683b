"""Genre accuracy from control codes: which genre's code makes a model find each script likeliest
(docs/control-codes.md). The codes themselves are ``lit_gpt2.modeling.control``."""

from collections.abc import Sequence

import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix
from transformers import GPT2LMHeadModel

from lit_gpt2.modeling.inference import inference_pass


def genre_accuracy(nll: torch.Tensor, labels: Sequence[int]) -> float:
    """Share of scripts whose own genre's code gives them the lowest loss.

    ``nll``: (scripts, genres), the mean negative log-likelihood of each script's tokens after each
    genre's code; ``labels``: each script's genre index. Ties go to the first genre. Chance is
    1 / genres.
    """
    if nll.shape[0] == 0:
        return float("nan")
    guessed = nll.argmin(dim=1)
    return (guessed == torch.as_tensor(labels, device=guessed.device)).float().mean().item()


def genre_confusion(nll: torch.Tensor, labels: Sequence[int]) -> torch.Tensor:
    """(genres, genres) counts of scripts by own genre (rows) and the genre whose code gives them the
    lowest loss (columns), from the same ``nll`` as ``genre_accuracy``: its diagonal is what that counts."""
    guessed = nll.argmin(dim=1)
    truth = torch.as_tensor(labels, device=guessed.device)
    return multiclass_confusion_matrix(guessed, truth, num_classes=nll.shape[1])


def code_nll(
    model: GPT2LMHeadModel, code_ids: Sequence[Sequence[int]], scripts: Sequence[Sequence[int]], batch_size: int = 64
) -> torch.Tensor:
    """Mean NLL (nats) of each script's tokens after each code: a (scripts, codes) matrix for
    ``genre_accuracy``. The code's own tokens are not scored; one forward pass per batch of pairs."""
    device = next(model.parameters()).device
    limit = model.config.n_positions  # a script too long for the context is cut after the code
    pairs = [(code, script[: limit - len(code)]) for script in scripts for code in code_ids]
    losses = []
    with inference_pass(model):
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            width = max(len(c) + len(s) for c, s in chunk)
            ids = torch.zeros(len(chunk), width, dtype=torch.long)
            labels = torch.full((len(chunk), width), -100, dtype=torch.long)
            for row, (code, script) in enumerate(chunk):
                sequence = torch.tensor([*code, *script])
                ids[row, : len(sequence)] = sequence
                labels[row, len(code) : len(sequence)] = sequence[len(code) :]
            logits = model(input_ids=ids.to(device)).logits[:, :-1].float()
            targets = labels[:, 1:].to(device)
            # Classes last, rows flattened: over a (batch, vocab, tokens) view, the CPU kernel is ~7x slower.
            token_nll = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="none"
            ).view(targets.shape)
            counts = (targets != -100).sum(dim=1).clamp(min=1)
            losses.append((token_nll.sum(dim=1) / counts).cpu())
    return torch.cat(losses).view(len(scripts), len(code_ids))
