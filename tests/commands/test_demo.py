"""``lit-gpt2 demo``: the page's handlers directly, the running page through gradio_client, and the page
in a real headless browser (Debian's chromium) where one is installed."""

import os
import re
import shutil
import socket
import time

import pytest

gr = pytest.importorskip("gradio", reason="the demo's tests need gradio (pip install -e '.[demo]')")

from gradio_client import Client  # noqa: E402

from lit_gpt2.checkpoints import load_model_and_tokenizer  # noqa: E402
from lit_gpt2.commands.demo_app import ALL_HEADS, Demo, DemoModel, build_app, preset_values  # noqa: E402
from lit_gpt2.decoding.strategies import PRESETS  # noqa: E402
from lit_gpt2.errors import UserInputError  # noqa: E402

PROMPT = "INT. DINER - NIGHT\n\nMARGO\n"
# prompt, model, preset, temperature, top_k, top_p, repetition_penalty, max_new_tokens, seed
GREEDY = ("greedy", 1.0, 0, 1.0, 1.0, 8, 0)


@pytest.fixture(scope="module")
def demo(tiny_export) -> Demo:
    return Demo([DemoModel("fine-tuned: tiny", *load_model_and_tokenizer(str(tiny_export)))])


def test_generate_continues_the_prompt_and_is_reproducible_by_seed(demo):
    greedy = demo.generate(PROMPT, "fine-tuned: tiny", *GREEDY)
    header, text = greedy.split("\n\n", 1)
    # A random tiny model may repeat a newline: the header then says so (any weights must pass).
    assert re.fullmatch(r"\[greedy, seed 0: 8 new tokens(, all whitespace)?\]", header), header
    assert text.startswith(PROMPT) and len(text) > len(PROMPT)
    sampled = [demo.generate(PROMPT, "fine-tuned: tiny", "top-p-0.9", 1.0, 0, 0.9, 1.0, 8, seed) for seed in (1, 1, 2)]
    assert sampled[0] == sampled[1] != sampled[2]


def test_several_samples_stop_strings_and_more_tokens_than_the_context(demo):
    """The tiny model's context is 128 tokens: 200 new ones slide the window."""
    text = demo.generate(PROMPT, "fine-tuned: tiny", "top-p-0.9", 1.0, 0, 0.9, 1.0, 200, 1, "(no code)", 2, "")
    assert "sample 1 of 2: 200 new tokens]" in text and "sample 2 of 2: 200 new tokens]" in text
    free = demo.generate(PROMPT, "fine-tuned: tiny", *GREEDY).split("\n\n", 1)[1][len(PROMPT) :]
    stop = free[2:5]
    stopped = demo.generate(PROMPT, "fine-tuned: tiny", *GREEDY, "(no code)", 1, stop)
    assert stopped.endswith(PROMPT + free[: free.index(stop) + len(stop)]) and ", stop string]" in stopped
    with pytest.raises(UserInputError, match="samples must be a whole number from 1 to 8"):
        demo.generate(PROMPT, "fine-tuned: tiny", *GREEDY, "(no code)", 0, "")


def test_moving_a_slider_customises_the_preset(demo):
    text = demo.generate(PROMPT, "fine-tuned: tiny", "greedy", 1.3, 0, 1.0, 1.0, 8, 0)
    assert text.startswith("[greedy(temperature=1.3,do_sample=True), seed 0: ")


def test_preset_values_set_the_sliders_to_what_the_preset_generates_with():
    assert preset_values("top-k-40") == (1.0, 40, 1.0, 1.0)
    assert preset_values("repetition-penalty-1.2")[3] == PRESETS["repetition-penalty-1.2"].repetition_penalty


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("   ", "fine-tuned: tiny", *GREEDY), "the prompt is empty"),
        ((PROMPT, "fine-tuned: tiny", "greedy", 0.0, 0, 1.0, 1.0, 8, 0), "temperature=0.0 must be > 0"),
        ((PROMPT, "fine-tuned: tiny", "greedy", 1.0, 0, 1.5, 1.0, 8, 0), "top_p=1.5 must be in (0, 1]"),
        ((PROMPT, "fine-tuned: tiny", "greedy", 1.0, 0, 1.0, 1.0, 0, 0), "max new tokens must be a whole number"),
        ((PROMPT, "fine-tuned: tiny", "greedy", 1.0, 2.5, 1.0, 1.0, 8, 0), "top-k must be a whole number"),
        ((PROMPT, "nope", *GREEDY), "unknown model 'nope'"),
        ((PROMPT, "fine-tuned: tiny", "nope", 1.0, 0, 1.0, 1.0, 8, 0), "unknown decoding strategy 'nope'"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(demo, args, message):
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        demo.generate(*args)


def test_analyse_draws_one_head_or_the_grid_the_next_token_chart_and_the_surprisal(demo):
    one, chart, surprisal = demo.analyse(PROMPT, "fine-tuned: tiny", 1, "0")
    grid, _, _ = demo.analyse(PROMPT, "fine-tuned: tiny", 0, ALL_HEADS)
    assert one.size != grid.size and chart.size[0] > 200 and surprisal.size[0] > 200
    with pytest.raises(UserInputError, match="layer must be a whole number from 0 to 1, got 2"):
        demo.analyse(PROMPT, "fine-tuned: tiny", 2, "0")
    with pytest.raises(UserInputError, match="head must be a whole number from 0 to 1"):
        demo.analyse(PROMPT, "fine-tuned: tiny", 0, "7")


@pytest.fixture(scope="module")
def served(demo):
    app = build_app(demo)
    app.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True)
    yield app.local_url
    app.close()


def test_the_running_page_answers_through_gradio_client(served):
    client = Client(served, verbose=False)
    text = client.predict(PROMPT, "fine-tuned: tiny", *GREEDY, api_name="/generate_left")
    assert text.startswith("[greedy, seed 0: ")
    images = client.predict(PROMPT, "fine-tuned: tiny", 0, "1", api_name="/analyse")
    assert len(images) == 3 and all(str(path).endswith((".png", ".webp")) for path in images)
    with pytest.raises(Exception, match="the prompt is empty"):
        client.predict("", "fine-tuned: tiny", *GREEDY, api_name="/generate_right")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# In CI (.ci/run installs the browser) the page must be tested: a missing browser or selenium fails there.
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER) and not IN_CI,
    reason="no headless browser: apt-get install chromium chromium-driver",
)
def test_a_real_browser_shows_an_output_and_a_heatmap(served):
    if not (CHROMIUM and CHROMEDRIVER):
        missing = " and ".join(
            name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path
        )
        pytest.fail(
            f"CI=true but {missing} not found on PATH: .ci/run should have installed Debian's chromium and "
            "chromium-driver (it can only as root with apt-get)"
        )
    if IN_CI:
        from selenium import webdriver
    else:
        webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        browser.get(served)
        deadline = time.monotonic() + 60
        while not browser.find_elements(By.CSS_SELECTOR, "#generate"):
            assert time.monotonic() < deadline, "the page never showed its Generate button"
            time.sleep(0.2)
        browser.find_element(By.CSS_SELECTOR, "#generate").click()
        while True:
            outputs = [
                e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "#output-left textarea")
            ]
            images = browser.find_elements(By.CSS_SELECTOR, "#attention img")
            if outputs and outputs[0] and images:
                break
            assert time.monotonic() < deadline, "no output and heatmap appeared within 60 s"
            time.sleep(0.2)
        assert outputs[0].startswith("[greedy, seed 0: ")
        assert images[0].get_attribute("src")
    finally:
        browser.quit()


def test_the_command_refuses_a_missing_model_in_one_line(run_cli, capsys, tmp_path):
    assert run_cli(["demo", f"--model={tmp_path / 'missing.ckpt'}"]) == 2
    err = capsys.readouterr().err
    assert "missing.ckpt" in err and "does not exist" in err and "Traceback" not in err


def test_the_command_lists_its_options(run_cli, capsys):
    assert run_cli(["demo", "--help"]) == 0
    assert "--baseline" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("continuation", "text", "header"),
    [
        ([198] * 8, "\n" * 8, "[greedy, seed 0: 8 new tokens, all whitespace]"),
        ([40, 716], "I am", "[greedy, seed 0: 2 new tokens, then <|endoftext|>]"),
    ],
)
def test_the_header_says_what_the_eye_cannot_see(demo, monkeypatch, continuation, text, header):
    import dataclasses

    import lit_gpt2.commands.demo_app as demo_app

    real = demo_app.generate_samples

    def generate_samples(*args):
        return dataclasses.replace(real(*args), continuations=[continuation], texts=[text])

    monkeypatch.setattr(demo_app, "generate_samples", generate_samples)
    assert demo.generate(PROMPT, "fine-tuned: tiny", *GREEDY).split("\n\n")[0] == header


def test_the_command_serves_the_page_for_a_model_folder(tiny_export, run_cli, monkeypatch):
    """The command run in this process: its launch is made to return once the page is served, and is
    checked to have been asked to block (serving as long as the command runs), as from a shell."""
    real_launch = gr.Blocks.launch
    launched = []

    def launch(app, *args, **kwargs):
        launched.append((app, args, dict(kwargs)))
        return real_launch(app, *args, **{**kwargs, "prevent_thread_lock": True})

    monkeypatch.setattr(gr.Blocks, "launch", launch)
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run_cli(["demo", f"--model={tiny_export}", f"--port={port}"]) == 0
    ((app, args, kwargs),) = launched
    try:
        assert not args and not kwargs.get("prevent_thread_lock")  # the command itself blocks
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        text = client.predict(PROMPT, f"fine-tuned: {tiny_export}", *GREEDY, api_name="/generate_left")
        assert text.startswith("[greedy, seed 0: 8 new tokens]")
    finally:
        app.close()


@pytest.fixture(scope="module")
def coded_demo(tiny_export, coded_export) -> Demo:
    return Demo(
        [
            DemoModel("baseline: tiny", *load_model_and_tokenizer(str(tiny_export))),
            DemoModel("fine-tuned: coded", *load_model_and_tokenizer(str(coded_export))),
        ]
    )


def test_a_genre_puts_its_code_before_the_prompt(coded_demo):
    from lit_gpt2.decoding.generate import generate_samples
    from lit_gpt2.decoding.strategies import customised

    coded = coded_demo.models["fine-tuned: coded"]
    text = coded_demo.generate(PROMPT, "fine-tuned: coded", *GREEDY, "noir")
    header, shown = text.split("\n\n", 1)
    assert header.startswith("[greedy, genre noir, seed 0: ")
    direct = generate_samples(coded.model, coded.tokenizer, ["<|genre:noir|>" + PROMPT], customised("greedy", {}), 8, 0)
    assert shown == PROMPT + direct.texts[0]  # the page shows the prompt as typed, the model saw the code
    assert not coded_demo.generate(PROMPT, "fine-tuned: coded", *GREEDY).startswith("[greedy, genre")
    with pytest.raises(UserInputError, match="genre 'noir': this model was trained without genre codes"):
        coded_demo.generate(PROMPT, "baseline: tiny", *GREEDY, "noir")


def _genre_dropdowns(app) -> list:
    return [b for b in app.blocks.values() if isinstance(b, gr.Dropdown) and b.label == "Genre"]


def test_each_side_has_a_genre_dropdown_only_when_a_model_knows_genres(coded_demo, demo):
    sides = _genre_dropdowns(build_app(coded_demo))
    assert len(sides) == 2 and all(d.visible for d in sides)
    assert [choice[0] for choice in sides[0].choices] == ["(no code)", "comedy", "noir"]
    assert not any(d.visible for d in _genre_dropdowns(build_app(demo)))
