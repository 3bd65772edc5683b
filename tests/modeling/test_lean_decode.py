"""The lean decoding step gives transformers' logits (float64, 1e-10) and the same samples, and stands
aside wherever it does not apply."""

import pytest
import torch
from transformers import GenerationConfig

import lit_gpt2.modeling.lean_decode as lean_decode
from lit_gpt2.decoding.generate import generate_samples
from lit_gpt2.decoding.strategies import PRESETS
from lit_gpt2.modeling.lean_decode import lean_decoding, lean_decoding_unsupported
from lit_gpt2.modeling.lora import LoraSettings, apply_lora
from lit_gpt2.module import GPT2LitModule

PROMPTS = ["INT. DINER - NIGHT\n\n", "EXT. CITY ROOFTOP - DAY\n\nA woman in a red coat stands at the edge.\n"]


@pytest.fixture
def module(tiny_config) -> GPT2LitModule:
    torch.manual_seed(0)
    module = GPT2LitModule(config=tiny_config)
    module.eval()
    return module


@pytest.fixture
def steps(monkeypatch) -> list[int]:
    """The number of one-token steps the lean step ran, appended as they run."""
    ran: list[int] = []
    original = lean_decode.decode_step

    def counted(*args, **kwargs):
        ran.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(lean_decode, "decode_step", counted)
    return ran


def _generate(module: GPT2LitModule, prompts: list[str], config: GenerationConfig, lean: bool):
    tokenizer = module.tokenizer
    batch = tokenizer.pad({"input_ids": tokenizer(prompts)["input_ids"]}, padding_side="left", return_tensors="pt")
    torch.manual_seed(7)
    with torch.inference_mode(), lean_decoding(module.model, enabled=lean):
        return module.model.generate(
            **batch, generation_config=config, return_dict_in_generate=True, output_logits=True
        )


@pytest.mark.parametrize("padded", [True, False], ids=["left-padded", "one-length"])
@pytest.mark.parametrize("beams", [1, 3], ids=["greedy", "beam-search"])
def test_each_step_gives_transformers_logits_in_float64(module, steps, padded, beams):
    """Left padding makes the step mask the padded keys; beam search reorders the cache between steps."""
    module.double()
    prompts = PROMPTS if padded else [PROMPTS[0]] * 2
    config = GenerationConfig(max_new_tokens=12, num_beams=beams, pad_token_id=module.tokenizer.eos_token_id)
    plain = _generate(module, prompts, config, lean=False)
    assert not steps
    lean = _generate(module, prompts, config, lean=True)
    assert len(steps) == 11  # the first token comes from transformers' pass over the prompt
    assert torch.equal(lean.sequences, plain.sequences)
    for ours, theirs in zip(lean.logits, plain.logits, strict=True):
        assert torch.allclose(ours, theirs, rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_writes_the_same_samples_in_float32(module, steps, name, monkeypatch):
    lean = generate_samples(module.model, module.tokenizer, PROMPTS, PRESETS[name], 24, seed=3, num_samples=2)
    assert steps
    monkeypatch.setattr(lean_decode, "lean_decoding_unsupported", lambda model: "switched off by the test")
    plain = generate_samples(module.model, module.tokenizer, PROMPTS, PRESETS[name], 24, seed=3, num_samples=2)
    assert lean.continuations == plain.continuations


def test_sharded_generation_and_lora_adapters_keep_transformers_forward(module, steps):
    model, replaced = module.model, []
    original = model.generate

    def generate(*args, synced_gpus: bool, **kwargs):  # records, then generates as on one process
        replaced.append("forward" in vars(model))
        return original(*args, **kwargs)

    model.generate = generate
    try:
        generate_samples(model, module.tokenizer, PROMPTS, PRESETS["greedy"], 8, seed=0, synced_gpus=True)
        generate_samples(model, module.tokenizer, PROMPTS, PRESETS["greedy"], 8, seed=0)
    finally:
        del model.generate
    # Sharded weights are gathered by hooks the step would skip: not replaced there.
    assert replaced == [False, True] and steps
    steps.clear()
    apply_lora(module.model, LoraSettings(rank=2))
    assert lean_decoding_unsupported(module.model) == "layers other than GPT-2's Conv1D"
    generate_samples(module.model, module.tokenizer, PROMPTS, PRESETS["greedy"], 8, seed=0)
    assert not steps


def test_transformers_output_capturing_hooks_are_no_reason_to_step_aside(module):
    """The attention and lens probes ask for attentions and hidden states: transformers then keeps hooks
    on the layers for good, which do nothing unless such a call runs (never a lean step)."""
    model = module.model
    with torch.inference_mode():
        model(input_ids=torch.tensor([[1, 2, 3]]), output_hidden_states=True)
    assert any(m._forward_hooks for m in model.modules())
    assert lean_decoding_unsupported(model) is None
    model.transformer.h[0].register_forward_hook(lambda *args: None)
    assert lean_decoding_unsupported(model) == "forward hooks"  # anyone else's would be skipped


def test_unsupported_models_are_named_and_the_forward_comes_back_even_on_error(module):
    model = module.model
    assert lean_decoding_unsupported(model) is None
    model.train()
    assert lean_decoding_unsupported(model) == "training mode (dropout)"
    model.eval()
    model.set_attn_implementation("eager")
    assert lean_decoding_unsupported(model) == "eager attention"
    model.set_attn_implementation("sdpa")
    with pytest.raises(RuntimeError, match="inside"), lean_decoding(model):
        assert "forward" in vars(model)
        assert lean_decoding_unsupported(model) == "a forward already replaced on the model"
        raise RuntimeError("inside")
    assert "forward" not in vars(model)
    with lean_decoding(model):  # overlapping uses (two threads): each leaves only its own replacement
        ours = vars(model)["forward"]
        with lean_decoding(model):
            assert vars(model)["forward"] is ours  # the inner one saw it replaced and stood aside
        model.forward = theirs = lambda *args, **kwargs: None
    assert vars(model)["forward"] is theirs
