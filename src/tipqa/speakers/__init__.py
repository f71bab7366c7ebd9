"""Who said what: a report's sentences attributed to their speakers at ingestion, and the statements it gives.

attribution.attribute_report(Report, [Chunk]) -> [Statement]; find_speaker, statements_of and speakers query them.
"""
