"""Separately deployed model services: ``llm`` (OpenAI-compatible, SmolLM2 through llama.cpp
embedded, vLLM in production), ``vision`` (garment segmentation), ``tryon`` (virtual try-on:
geometric on CPU or diffusion, batched) and ``imagegen`` (text-to-image with ControlNet,
batched); voice is still to come.

Each has a router, a protocol and a serving class, plus a small client the application uses.
"""
