"""The extract layer: feed declarations, the synthetic generator, and the COPY loader."""
