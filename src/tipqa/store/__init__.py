"""The index store: passages, their vectors, BM25 weights, sentence vectors and statements, one generation at a time.

base.py is the interface (Store, Generation) the rest of tipqa uses; files.py is today's store, generations as
folders on disk (IndexStore.write -> IndexData, IndexStore.load -> IndexData), with ann.py (the dense index, exact or
IVF) and lexical.py (BM25); postgres.py is the same in PostgreSQL with pgvector (DatabaseStore, with pg_write.py and
pg_generation.py), for several processes and machines over one corpus. open_store is the one place a store is chosen.
"""
from __future__ import annotations

from ..config import Settings
from .base import Generation, SentenceVectors, Store


def open_store(settings: Settings) -> Store:
    """The store the settings name: PostgreSQL when settings.database_url is set (postgres.py), else generations
    in folders under settings.index_dir (files.py)."""
    if settings.database_url:
        from .postgres import DatabaseStore
        return DatabaseStore(settings.database_url)
    from .files import IndexStore
    return IndexStore(settings.index_dir)


__all__ = ["Generation", "SentenceVectors", "Store", "open_store"]
