"""Outfit recommendation: candidates, ranking, composition and the agent-facing tools."""
