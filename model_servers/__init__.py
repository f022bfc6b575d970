"""Separately deployed model services: ``llm`` (OpenAI-compatible, SmolLM2 through llama.cpp
embedded, vLLM in production), ``vision`` (garment segmentation) and ``tryon`` (virtual try-on,
batched); image generation and voice are still to come.

Each has a router, a protocol and a serving class, plus a small client the application uses.
"""
