"""Answering: a question and a loaded generation in, an Answer with its evidence and citations out.

retrieval.search (dense + BM25, fused) -> [Hit]; answer.build_answer (questions.analyse, extract.answer_question)
-> Answer; followup.rewrite_followup reads a follow-up in the context of the previous question.
"""
