"""The wardrobe: photos of a person's own clothes turned into tagged items (image layer, tagging, CLI)."""
