"""The try-on model server: an engine behind HTTP, for deployments that run it on a GPU node."""
