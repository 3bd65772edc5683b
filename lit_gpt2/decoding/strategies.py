"""Named decoding strategies: data, not branches. Each becomes one ``transformers.GenerationConfig``.

Contrastive search and group (diverse) beam search are not offered: transformers 5 moved them to
hub-hosted code, which offline machines cannot load.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from transformers import GenerationConfig

from lit_gpt2.errors import UserInputError


@dataclass(frozen=True)
class DecodingStrategy:
    """One way to pick the next token; invalid values are refused when the strategy is built.

    Args:
        name: Label in TensorBoard (``samples/<name>``, ``gen/<name>/...``) and in reports.
        do_sample: Sample from the distribution (else greedy or beam search).
        num_beams: Beam width; 1 means no beam search.
        temperature: Softmax temperature for sampling (> 0).
        top_k: Keep the k most likely tokens; 0 keeps all.
        top_p: Nucleus: keep the smallest set of tokens whose probability reaches p; 1.0 keeps all.
        typical_p: Locally typical sampling mass; 1.0 disables it.
        min_p: Drop tokens below min_p times the top token's probability; None disables it.
        repetition_penalty: Divide the logits of already generated tokens by this (> 1 discourages repeats).
        no_repeat_ngram_size: Never repeat an n-gram of this size; 0 disables it.
    """

    name: str
    do_sample: bool = False
    num_beams: int = 1
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    typical_p: float = 1.0
    min_p: float | None = None
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0

    def __post_init__(self) -> None:
        problems = [
            (self.temperature <= 0, f"temperature={self.temperature} must be > 0 (greedy is deterministic)"),
            (not 0 < self.top_p <= 1, f"top_p={self.top_p} must be in (0, 1]"),
            (self.top_k < 0, f"top_k={self.top_k} must be >= 0 (0 keeps every token)"),
            (self.num_beams < 1, f"num_beams={self.num_beams} must be >= 1"),
            (not 0 < self.typical_p <= 1, f"typical_p={self.typical_p} must be in (0, 1]"),
            (self.min_p is not None and not 0 <= self.min_p <= 1, f"min_p={self.min_p} must be in [0, 1]"),
            (self.repetition_penalty <= 0, f"repetition_penalty={self.repetition_penalty} must be > 0"),
            (self.no_repeat_ngram_size < 0, f"no_repeat_ngram_size={self.no_repeat_ngram_size} must be >= 0"),
        ]
        for bad, message in problems:
            if bad:
                raise UserInputError(f"decoding strategy {self.name!r}: {message}")

    def generation_config(self, max_new_tokens: int, pad_token_id: int, eos_token_id: int) -> GenerationConfig:
        """Every knob set explicitly, so GPT-2's own generation defaults (top_k=50) never leak in."""
        if max_new_tokens < 1:
            raise UserInputError(f"max_new_tokens={max_new_tokens} must be at least 1")
        fields = asdict(self)
        del fields["name"]
        if not self.do_sample:  # sampling knobs mean nothing to greedy and beam search: leave them unset
            for knob in ("temperature", "top_k", "top_p", "typical_p", "min_p"):
                del fields[knob]
        return GenerationConfig(
            **fields,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad_token_id,
            eos_token_id=eos_token_id,
            early_stopping=self.num_beams > 1,
        )


def _presets() -> dict[str, DecodingStrategy]:
    strategies = [
        DecodingStrategy("greedy"),
        # Five beams, no trigram twice. The course notebooks ban bigrams, on words; on sub-word tokens
        # a bigram ban also forbids a second blank line ("\n", "\n"), which a heading prompt already
        # holds, so beam search could never leave the first paragraph of a screenplay.
        DecodingStrategy("beam-5", num_beams=5, no_repeat_ngram_size=3),
        *(DecodingStrategy(f"temperature-{t}", do_sample=True, temperature=t) for t in (0.7, 1.0, 1.5)),
        *(DecodingStrategy(f"top-k-{k}", do_sample=True, top_k=k) for k in (10, 40, 100)),
        *(DecodingStrategy(f"top-p-{p}", do_sample=True, top_p=p) for p in (0.8, 0.9, 0.95)),
        DecodingStrategy("repetition-penalty-1.2", do_sample=True, top_p=0.95, repetition_penalty=1.2),
        DecodingStrategy("typical-p-0.95", do_sample=True, typical_p=0.95),
        DecodingStrategy("min-p-0.05", do_sample=True, min_p=0.05),
    ]
    return {s.name: s for s in strategies}


PRESETS: dict[str, DecodingStrategy] = _presets()

# The sample callback's default: one of every family the course compares (greedy, beam search, pure
# sampling, top-k, nucleus). List any presets (or your own) in YAML for the full grid.
DEFAULT_CALLBACK_STRATEGIES: tuple[str, ...] = ("greedy", "beam-5", "temperature-1.0", "top-k-40", "top-p-0.9")


SAMPLING_KNOBS = ("temperature", "top_k", "top_p", "typical_p", "min_p")
OVERRIDABLE = (*SAMPLING_KNOBS, "do_sample", "num_beams", "repetition_penalty", "no_repeat_ngram_size")


def customised(preset: str, overrides: dict) -> DecodingStrategy:
    """A preset with explicit parameters on top (None means "the preset's"); a sampling knob switches
    sampling on unless told not to. The name records what changed, e.g. ``greedy(temperature=0.8)``."""
    if preset not in PRESETS:
        raise UserInputError(f"unknown decoding strategy {preset!r}: use one of {', '.join(PRESETS)}")
    base = PRESETS[preset]
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(given) - set(OVERRIDABLE)
    if unknown:
        raise UserInputError(f"cannot override {sorted(unknown)}: choose from {', '.join(OVERRIDABLE)}")
    changed = {k: v for k, v in given.items() if getattr(base, k) != v}
    if not base.do_sample and "do_sample" not in given and any(k in changed for k in SAMPLING_KNOBS):
        changed["do_sample"] = True
    if not changed:
        return base
    label = ",".join(f"{k}={v}" for k, v in changed.items())
    return dataclasses.replace(base, name=f"{preset}({label})", **changed)


def resolve_strategies(strategies: Sequence[str | dict | DecodingStrategy]) -> list[DecodingStrategy]:
    """Preset names, custom strategies, and their fields as dicts (from YAML) to strategies.

    Unknown names, unknown fields and duplicate names are refused in one line each.
    """
    resolved = []
    for item in strategies:
        if isinstance(item, DecodingStrategy):
            resolved.append(item)
        elif isinstance(item, dict):
            fields = {f.name for f in dataclasses.fields(DecodingStrategy)}
            unknown = set(item) - fields
            if unknown or "name" not in item:
                raise UserInputError(
                    f"custom decoding strategy {item} needs a name and only these fields: {', '.join(sorted(fields))}"
                )
            resolved.append(DecodingStrategy(**item))
        elif item in PRESETS:
            resolved.append(PRESETS[item])
        else:
            raise UserInputError(f"unknown decoding strategy {item!r}: use one of {', '.join(PRESETS)}, or define one")
    names = [s.name for s in resolved]
    if len(set(names)) != len(names):
        raise UserInputError(f"decoding strategy names must be unique, got {names}")
    return resolved
