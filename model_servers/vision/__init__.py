"""The vision model server: garment segmentation over HTTP, for deployments that run it apart."""
