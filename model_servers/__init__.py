"""Separately deployed model services (LLM, try-on, image generation, voice, vision).

Each will have a router, a protocol and a serving class, plus a small client. Not built yet.
"""
