"""The graph's nodes: guard, route, one handler per intent, handoff and the responder."""
