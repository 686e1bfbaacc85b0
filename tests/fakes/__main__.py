"""Run the loopback fakes of every provider and print the environment that points casecraft at them.

python -m tests.fakes > fakes.env &   # prints `export ...` lines, runs until SIGTERM
. ./fakes.env && casecraft demo       # once fakes.env has its five lines
"""

from __future__ import annotations

import argparse
import signal
import threading
from contextlib import ExitStack

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.faults import Pace
from tests.fakes.openai_images import FakeOpenAIImages
from tests.fakes.openrouter_images import FakeOpenRouter
from tests.fakes.server import serve_in_thread


def main() -> None:
    parser = argparse.ArgumentParser(description="loopback fakes of Anthropic, OpenRouter, OpenAI")
    parser.add_argument("--tokens-per-s", type=float, default=0.0, help="stream pace; 0: at once")
    parser.add_argument("--image-latency-s", type=float, default=0.0)
    args = parser.parse_args()
    pace = Pace(tokens_per_s=args.tokens_per_s) if args.tokens_per_s else None
    anthropic = FakeAnthropic(pace=pace)
    openrouter = FakeOpenRouter(latency_s=args.image_latency_s)
    openai = FakeOpenAIImages(latency_s=args.image_latency_s)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with ExitStack() as running:
        urls = [
            running.enter_context(serve_in_thread(f.app)) for f in (anthropic, openrouter, openai)
        ]
        print(f"export ANTHROPIC_BASE_URL={urls[0]} ANTHROPIC_API_KEY=sk-ant-fake-key-0000")
        print(
            f"export OPENROUTER_BASE_URL={urls[1]}/api/v1 OPENROUTER_API_KEY={openrouter.api_key}"
        )
        print(f"export OPENAI_BASE_URL={urls[2]}/v1 OPENAI_API_KEY={openai.api_key}")
        print("export CASECRAFT_STRUCTURER_PROVIDERS=anthropic,local")
        print("export CASECRAFT_IMAGE_PROVIDERS=openrouter,openai,local", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
