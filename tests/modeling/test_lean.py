"""The lean training forward computes transformers' loss and gradients exactly (float64, 1e-10)."""

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.lean import _SigmoidTanhGelu, lean_hidden_states
from lit_gpt2.modeling.lora import LoraSettings
from lit_gpt2.module import GPT2LitModule

NO_DROPOUT = {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}


def _pair(config: dict, **options) -> tuple[GPT2LitModule, GPT2LitModule]:
    """The same float64 weights twice: through the lean forward, and through transformers' own."""
    torch.manual_seed(0)
    lean = GPT2LitModule(config={**config, **NO_DROPOUT}, lean_forward=True, **options).double()
    plain = GPT2LitModule(config={**config, **NO_DROPOUT}, lean_forward=False, **options).double()
    plain.load_state_dict(lean.state_dict())
    return lean, plain


def _transformers_loss(module: GPT2LitModule, batch: dict) -> torch.Tensor:
    """transformers' forward, then the next-token cross-entropy in the logits' own precision (its own
    loss would round float64 logits to float32)."""
    logits = module.model(input_ids=batch["input_ids"]).logits
    labels = batch.get("labels", batch["input_ids"])
    return torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten(), ignore_index=-100)


def _loss_and_grads(module: GPT2LitModule, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    module.train()
    module.zero_grad()
    loss = module.shared_step(batch)[0] if module._lean else _transformers_loss(module, batch)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in module.named_parameters() if p.grad is not None}


def _assert_same(lean: GPT2LitModule, plain: GPT2LitModule, batch: dict) -> None:
    lean_loss, lean_grads = _loss_and_grads(lean, batch)
    plain_loss, plain_grads = _loss_and_grads(plain, batch)
    assert abs(lean_loss.item() - plain_loss.item()) < 1e-10
    assert lean_grads.keys() == plain_grads.keys() and lean_grads
    for name, grad in plain_grads.items():
        assert torch.allclose(lean_grads[name], grad, rtol=0, atol=1e-10), name


def _batch(vocab: int, masked: bool = False) -> dict:
    torch.manual_seed(1)
    input_ids = torch.randint(0, vocab, (2, 24))
    if not masked:
        return {"input_ids": input_ids}
    labels = input_ids.clone()
    labels[0, :5] = -100  # as control codes are masked from the targets
    return {"input_ids": input_ids, "labels": labels}


@pytest.mark.parametrize("chunk", [0, 16], ids=["full-logits", "chunked"])
@pytest.mark.parametrize("vocab_multiple", [1, 64], ids=["unpadded", "padded-to-64"])
def test_lean_loss_and_gradients_equal_transformers(tiny_config, chunk, vocab_multiple):
    lean, plain = _pair(tiny_config, loss_chunk_size=chunk, vocab_multiple=vocab_multiple)
    assert len(lean.tokenizer) % 64 != 0  # 50,257: padding really pads
    _assert_same(lean, plain, _batch(len(lean.tokenizer), masked=True))


def test_lean_forward_equals_transformers_with_lora(tiny_config):
    pytest.importorskip("peft")
    lora = LoraSettings(rank=2, dropout=0.0, target_modules=("c_attn", "c_proj", "c_fc"))
    lean, plain = _pair(tiny_config, lora=lora)
    with torch.no_grad():  # peft starts B at zero; make the adapters count
        for module in (lean, plain):
            for name, param in module.model.named_parameters():
                if "lora_B" in name:
                    param.copy_(torch.full_like(param, 0.01))
    _assert_same(lean, plain, _batch(len(lean.tokenizer)))
    assert all("lora_" in name for name, p in lean.named_parameters() if p.grad is not None)


def test_lean_forward_equals_transformers_with_control_codes(tiny_config):
    lean, plain = _pair(tiny_config, control_codes=["noir", "western"])
    assert len(lean.tokenizer) == 50259
    _assert_same(lean, plain, _batch(len(lean.tokenizer), masked=True))


def test_lean_forward_recomputes_blocks_under_gradient_checkpointing(tiny_config):
    lean, plain = _pair(tiny_config)
    lean.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    calls = []
    lean.model.transformer.h[0].ln_1.register_forward_hook(lambda *_: calls.append(1))
    _assert_same(lean, plain, _batch(len(lean.tokenizer)))
    assert len(calls) == 2  # the block ran again in the backward pass


def test_lean_forward_equals_transformers_inside_ddp(tiny_config, tmp_path):
    """DDP's gradient hooks fire on the lean path's parameters (one gloo process)."""
    lean, plain = _pair(tiny_config)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        wrapped = DistributedDataParallel(lean)
        batch = _batch(len(lean.tokenizer))
        loss = wrapped.module.shared_step(batch)[0]  # as Lightning's forward redirection calls it
        plain_loss, plain_grads = _loss_and_grads(plain, batch)
        loss.backward()
        assert lean._lean and not plain._lean
        assert abs(loss.item() - plain_loss.item()) < 1e-10
        for name, param in lean.named_parameters():
            assert torch.allclose(param.grad, plain_grads[name], rtol=0, atol=1e-10), name
    finally:
        dist.destroy_process_group()


def test_padded_rows_never_reach_the_model_or_its_export(tiny_config, tmp_path):
    lean, _ = _pair(tiny_config, loss_chunk_size=0, vocab_multiple=64)
    _loss_and_grads(lean, _batch(len(lean.tokenizer)))
    assert lean.model.lm_head.weight.shape[0] == len(lean.tokenizer) == 50257
    lean.export(tmp_path / "export")
    assert '"vocab_size": 50257' in (tmp_path / "export" / "config.json").read_text()


def test_hidden_states_equal_transformers_in_eval_mode(tiny_config):
    lean, plain = _pair(tiny_config)
    lean.eval()
    input_ids = _batch(len(lean.tokenizer))["input_ids"]
    expected = plain.model.transformer(input_ids=input_ids).last_hidden_state
    assert torch.allclose(lean_hidden_states(lean.model, input_ids), expected, rtol=0, atol=1e-10)


def test_sigmoid_form_of_gpt2_gelu_matches_torchs_tanh_gelu():
    x = torch.linspace(-12, 12, 2001, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn_like(x)
    ours = _SigmoidTanhGelu.apply(x)
    reference = torch.nn.functional.gelu(x, approximate="tanh")
    assert torch.allclose(ours, reference, rtol=0, atol=1e-12)
    (ours_grad,) = torch.autograd.grad(ours, x, upstream)
    (reference_grad,) = torch.autograd.grad(reference, x, upstream)
    assert torch.allclose(ours_grad, reference_grad, rtol=0, atol=1e-12)


def test_lean_forward_is_on_by_default_and_off_under_sharded_strategies(tiny_module):
    assert tiny_module._lean
    tiny_module.resolve_speed_switches(on_gpu=True, sharded=True)
    assert not tiny_module._lean
    assert tiny_module._vocab_multiple == 64


def test_lean_forward_asked_for_under_a_sharded_strategy_is_refused(tiny_config):
    module = GPT2LitModule(config=tiny_config, lean_forward=True)
    with pytest.raises(UserInputError, match="lean_forward=true does not work under FSDP or DeepSpeed"):
        module.resolve_speed_switches(on_gpu=True, sharded=True)


def test_bad_vocab_multiple_is_refused(tiny_config):
    with pytest.raises(UserInputError, match="vocab_multiple=0 must be >= 1"):
        GPT2LitModule(config=tiny_config, vocab_multiple=0)


def test_lean_forward_refuses_what_it_does_not_compute(tiny_config):
    with pytest.raises(UserInputError, match="does not handle cross-attention"):
        GPT2LitModule(config={**tiny_config, "add_cross_attention": True}, lean_forward=True)


def test_compiled_lean_forward_hands_sdpa_no_mask_and_is_causal(tiny_config):
    """What torch.compile's graph passes to attention (a materialised mask made a GPU's flash kernel
    2.5x slower per call): captured by a backend that records the graph and runs it uncompiled."""
    calls = []

    def record(graph_module, example_inputs):
        calls.extend(n.kwargs for n in graph_module.graph.nodes if "scaled_dot_product" in str(n.target))
        return graph_module.forward

    module = GPT2LitModule(config=tiny_config)
    torch._dynamo.reset()
    torch.compile(lambda ids: lean_hidden_states(module.model, ids), backend=record)(torch.randint(0, 50257, (2, 8)))
    assert len(calls) == tiny_config["n_layer"]
    assert all(kwargs["is_causal"] is True and kwargs.get("attn_mask") is None for kwargs in calls)
