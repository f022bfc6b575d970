"""The HTTP API (FastAPI); ``python -m api`` serves it."""
