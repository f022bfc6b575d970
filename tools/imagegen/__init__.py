"""Pictures of an outfit: a board of the real product photos, and prompts for a diffusion server."""
