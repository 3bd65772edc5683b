"""The next-token distribution for a prompt, and where top-k and top-p would cut it."""

from dataclasses import dataclass

import torch
from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.modeling.inference import inference_pass
from lit_gpt2.modeling.tokenizer import token_texts


@dataclass
class NextTokenDistribution:
    """Probabilities of the ``shown`` most likely next tokens at each temperature, and the cut-offs."""

    prompt: str
    tokens: list[str]  # the most likely tokens at temperature 1, most likely first
    probabilities: dict[float, list[float]]  # temperature -> probability of each shown token
    top_k: int
    top_p: float
    nucleus_size: dict[float, int]  # temperature -> tokens kept by top-p


def next_token_distribution(
    model: GPT2LMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt: str,
    temperatures: tuple[float, ...] = (0.7, 1.0, 1.5),
    top_k: int = 10,
    top_p: float = 0.9,
    shown: int = 30,
) -> NextTokenDistribution:
    device = next(model.parameters()).device
    ids = tokenizer(prompt, verbose=False)["input_ids"][-(model.config.n_positions - 1) :] or [tokenizer.eos_token_id]
    with inference_pass(model):
        logits = model(input_ids=torch.tensor([ids], device=device)).logits[0, -1].float().cpu()
    order = torch.argsort(logits, descending=True)
    top = order[:shown]
    probabilities, nucleus = {}, {}
    for t in temperatures:
        probs = torch.softmax(logits / t, dim=-1)
        probabilities[t] = probs[top].tolist()
        cumulative = torch.cumsum(probs[order], dim=0)
        nucleus[t] = int(torch.searchsorted(cumulative, torch.tensor(top_p)).item()) + 1
    tokens = token_texts(tokenizer, top.tolist())
    return NextTokenDistribution(prompt, tokens, probabilities, top_k, top_p, nucleus)
