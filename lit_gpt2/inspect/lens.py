"""What the model would predict after each layer (logit lens), and how surprised it is by each token of
a passage (docs/logit-lens-and-surprisal.md). Pure functions on tensors, and the one pass that feeds them."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers import GPT2LMHeadModel

from lit_gpt2.modeling.inference import inference_pass


@dataclass
class LogitLens:
    """Rows are the residual stream after the embeddings, then after each block (the last row is the
    model's own output); columns are positions."""

    top_ids: torch.Tensor  # (layers + 1, T): most likely next token
    top_probs: torch.Tensor  # (layers + 1, T): its probability
    losses: torch.Tensor  # (layers + 1,): mean cross-entropy (nats) against the true next tokens

    @property
    def row_names(self) -> list[str]:
        return ["embed", *(f"layer{layer}" for layer in range(len(self.losses) - 1))]


def logit_lens(
    hidden_states: Sequence[torch.Tensor],
    final_norm: Callable[[torch.Tensor], torch.Tensor],
    unembedding: torch.Tensor,
    input_ids: torch.Tensor,
) -> LogitLens:
    """Apply the final LayerNorm and the (tied) unembedding to every residual stream.

    ``hidden_states``: transformers' ``output_hidden_states`` for one sequence, layers + 1 tensors of
    (1, T, d). GPT2Model returns the last one already normalised by ``ln_f``, so the norm is applied to
    all but the last. ``unembedding``: (vocab, d). ``input_ids``: (T,), for the true next tokens.
    """
    last = len(hidden_states) - 1
    streams = [final_norm(h) if i < last else h for i, h in enumerate(hidden_states)]
    logits = torch.stack([s[0] for s in streams]).float() @ unembedding.float().T  # (rows, T, vocab)
    probs = logits.softmax(dim=-1)
    top_probs, top_ids = probs.max(dim=-1)
    targets = input_ids[1:].to(logits.device)
    losses = torch.stack([torch.nn.functional.cross_entropy(row[:-1], targets) for row in logits])
    return LogitLens(top_ids=top_ids.cpu(), top_probs=top_probs.cpu(), losses=losses.cpu())


def token_surprisal(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Bits of surprise at each token after the first: -log2 p(token | the tokens before it).

    ``logits``: (T, vocab) for the positions of ``input_ids`` (T,); returns (T - 1,).
    """
    log_probs = logits[:-1].float().log_softmax(dim=-1)
    picked = log_probs.gather(1, input_ids[1:, None].to(log_probs.device))[:, 0]
    return (-picked / math.log(2)).cpu()


@dataclass
class LensPass:
    """One forward pass over a token sequence: its logit lens and the surprisal of each token."""

    input_ids: torch.Tensor  # (T,)
    lens: LogitLens
    surprisal_bits: torch.Tensor  # (T - 1,)


def lens_pass(model: GPT2LMHeadModel, input_ids: list[int]) -> LensPass:
    """Run the model once (eval mode, no grad) and read both off its hidden states and logits."""
    device = next(model.parameters()).device
    ids = torch.tensor(input_ids[: model.config.n_positions], device=device)
    with inference_pass(model):
        out = model(ids[None], output_hidden_states=True)
        lens = logit_lens(out.hidden_states, model.transformer.ln_f, model.get_output_embeddings().weight, ids)
    return LensPass(input_ids=ids.cpu(), lens=lens, surprisal_bits=token_surprisal(out.logits[0], ids))


def surprisal_pass(model: GPT2LMHeadModel, input_ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The ids read (cut to the model's context) and each one's surprisal after the first, from one plain
    forward pass: no hidden states, no lens (which would hold layers x tokens x vocabulary logits)."""
    device = next(model.parameters()).device
    ids = torch.tensor(input_ids[: model.config.n_positions], device=device)
    with inference_pass(model):
        logits = model(ids[None]).logits[0]
    return ids.cpu(), token_surprisal(logits, ids)
