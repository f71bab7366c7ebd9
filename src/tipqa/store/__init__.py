"""The index store: passages, their vectors, BM25 weights, sentence vectors and statements, one generation at a time.

files.IndexStore writes and loads generations on disk (IndexStore.write -> IndexData, IndexStore.load -> IndexData);
ann.py is the dense index (exact or IVF), lexical.py the BM25 side.
"""
