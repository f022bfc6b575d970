"""The conversational agent (LangGraph): guard, intent router, per-intent sub-graphs, responder.

Built so far: the intent labels (``intents``), the guard (``guard``), the local router
(``router``), slot extraction (``slots``) and ``python -m agent route``. The graph, memory, LLM client,
chat API and CLI chat are still to come. The agent reaches data only through ``tools``.
"""
