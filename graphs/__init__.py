"""The fashion knowledge graph: schema, builders, Cypher queries, embedded and Neo4j adapters.

Not built yet: see the recommendation issue.
"""
