"""The conversational agent (LangGraph): guard, intent router, per-intent sub-graphs, responder.

Not built yet: see the agent issue. It will reach data only through ``tools``.
"""
