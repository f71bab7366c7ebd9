"""The tipqa web chat: `python app.py`, `gradio app.py` or `tipqa serve` (settings from TIPQA_* variables)."""
from tipqa.config import load_settings
from tipqa.web.app import build_demo, launch_options, queued

settings = load_settings()
options = launch_options(settings)  # refuse an unsafe host/auth before loading the model and index
demo = queued(build_demo(settings=settings))

if __name__ == "__main__":
    demo.launch(**options)
