"""Separately deployed model services: today ``llm`` (OpenAI-compatible, SmolLM2 through llama.cpp
embedded, vLLM in production); try-on, image generation, voice and vision are still to come.

Each has a router, a protocol and a serving class, plus a small client the application uses.
"""
