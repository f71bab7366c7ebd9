"""What the words of the reports name, in English and Spanish (shared by ingestion, speakers and answering).

entities.py: find_entities(text) -> [Entity] (countries, organisations, people, dates, document symbols, numbers,
with canonical ids whatever the language or alias); glossary.py: is_spanish(text), to_english(question).
"""
