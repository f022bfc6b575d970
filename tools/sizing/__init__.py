"""Size and fit: size charts, a fit model trained on RentTheRunway feedback, size advice."""
