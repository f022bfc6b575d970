"""Retrieval: full-text and vector search, hybrid fusion, embeddings, the zh→attribute lexicon.

Not built yet: see the catalog issue.
"""
