"""tipqa: answers with exact citations from reports on trafficking in persons."""
from __future__ import annotations

from .version import __version__

__all__ = ["Assistant", "Answer", "TipqaError", "Settings", "load_settings", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import tipqa` (and `tipqa --help`) stays fast: no numpy/faiss/torch until used.
    if name == "Assistant":
        from .assistant import Assistant
        return Assistant
    if name == "Answer":
        from .answering.answer import Answer
        return Answer
    if name == "TipqaError":
        from .errors import TipqaError
        return TipqaError
    if name in ("Settings", "load_settings"):
        from . import config
        return getattr(config, name)
    raise AttributeError(name)
