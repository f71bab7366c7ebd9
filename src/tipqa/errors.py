"""The TipqaError family: str(error) is shown to users verbatim and names the fix."""
from __future__ import annotations

from pathlib import Path


class TipqaError(Exception):
    """Base class of every error a user may see."""


class ConfigError(TipqaError):
    pass


class CorpusNotFound(TipqaError):
    def __init__(self, corpus_dir: Path):
        super().__init__(
            f"Corpus folder {corpus_dir} does not exist. Create it and put reports in it, "
            f"or point --corpus / TIPQA_CORPUS_DIR at the folder that holds them."
        )


class EmptyCorpus(TipqaError):
    def __init__(self, corpus_dir: Path):
        super().__init__(
            f"No reports in {corpus_dir} (supported: .txt, .md, .pdf, .docx, .html). "
            f"Add one with 'tipqa add FILE'."
        )


class ReportError(TipqaError):
    """A report that cannot be read; the message says which file and what to do."""


class CopyError(TipqaError):
    def __init__(self, path: Path, corpus: Path, error: OSError):
        super().__init__(f"{path.name}: could not be copied into {corpus} ({error.strerror or error}); the corpus and "
                         f"the index are unchanged. Free disk space or fix permissions, then add it again.")


class UnsupportedFormat(ReportError):
    pass


class ReportNotFound(TipqaError):
    def __init__(self, report_id: str, known: list[str]):
        listing = ", ".join(known) if known else "none"
        super().__init__(f"No report with id {report_id!r}. Indexed reports: {listing}. See 'tipqa reports'.")


class IndexNotFound(TipqaError):
    def __init__(self, index_dir: Path):
        super().__init__(f"No index in {index_dir}. Run 'tipqa build' first.")


class IndexCorrupt(TipqaError):
    """The live generation fails verification; the message says what and how to fix it."""


class ModelMismatch(IndexCorrupt):
    """The index was built with another embedding model than the one configured."""


class IndexLocked(TipqaError):
    def __init__(self, index_dir: Path, holder: str):
        super().__init__(
            f"Another build is writing {index_dir} ({holder}). Wait for it to finish and try again."
        )


class ModelError(TipqaError):
    pass


class QuestionError(TipqaError):
    pass
