"""Ingestion: a report file in, its passages out.

file --load_report (reports/, one loader per format; in a child process: isolation.parse_report_isolated)-->
Report(sections) --chunk_report (chunking.py)--> [Chunk]. Nothing here knows about vectors, the index or questions.
"""
