"""Tests for the outfit board and the image prompt builder."""
