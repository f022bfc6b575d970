"""Store protocols and their embedded and production adapters; ``stores.build_stores`` wires them."""
