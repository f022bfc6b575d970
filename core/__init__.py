"""Settings, logging and data locations shared by every package."""
