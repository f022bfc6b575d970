"""The text-to-image model server: prompts (and optionally a pose or edge image) to pictures,
with an SD-1.5-shaped diffusers pipeline; ``python -m model_servers.imagegen`` serves it."""
