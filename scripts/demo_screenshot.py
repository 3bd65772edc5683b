"""Take the README's picture of ``lit-gpt2 demo``: serve the page for a model, click Generate in headless
chromium (Debian's chromium and chromium-driver, plus ``pip install selenium``), and save a screenshot.

    python scripts/demo_screenshot.py --model runs/lit-gpt2/version_0/export --out docs/demo.png
"""

import argparse
import time

from selenium import webdriver
from selenium.webdriver.common.by import By

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.commands.demo_app import Demo, DemoModel, build_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", default="docs/demo.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    app = build_app(Demo([DemoModel("fine-tuned: quickstart", *load_model_and_tokenizer(args.model))]))
    app.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars"):
        options.add_argument(flag)
    options.add_argument("--window-size=1400,2300")
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=args.chromedriver))
    try:
        browser.get(app.local_url)
        deadline = time.monotonic() + 120
        while not browser.find_elements(By.CSS_SELECTOR, "#generate"):
            time.sleep(0.2)
        browser.find_element(By.CSS_SELECTOR, "#generate").click()
        while not (
            browser.find_elements(By.CSS_SELECTOR, "#next-token img")
            and all(e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "textarea")[1:3])
        ):
            if time.monotonic() > deadline:
                raise SystemExit("the page showed no output within 2 minutes")
            time.sleep(0.5)
        time.sleep(1)  # let the images finish drawing
        browser.save_screenshot(args.out)
        print(f"Saved {args.out}")
    finally:
        browser.quit()
        app.close()


if __name__ == "__main__":
    main()
