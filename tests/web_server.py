"""A real tipqa web server for tests: the seed corpus, the real model, Gradio listening on a free local port."""
from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from tipqa.assistant import Assistant
from tipqa.config import Settings, load_settings
from tipqa.web.app import ProgressRelay, WebApp, build_demo, launch_options, queued

from .conftest import SEED

DATA = Path(__file__).resolve().parent / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    app: WebApp
    settings: Settings
    root: Path
    demo: object

    def close(self) -> None:
        self.demo.close()


def start_server(root: Path, embedder, **overrides) -> RunningServer:
    """Index the seed report under ROOT and serve it with the same options `tipqa serve` uses."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), corpus / (SEED.name + ".meta.json"))
    settings = load_settings(corpus_dir=corpus, index_dir=root / "index", port=free_port(), host="127.0.0.1",
                             **overrides)
    relay = ProgressRelay()
    app = WebApp(Assistant.open(settings=settings, embedder=embedder, progress=relay), relay)
    demo = queued(build_demo(app))
    demo.launch(prevent_thread_lock=True, quiet=True, **launch_options(settings))
    return RunningServer(f"http://127.0.0.1:{settings.port}/", app, settings, root, demo)
