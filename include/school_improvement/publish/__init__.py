"""Publish: an edition onto the shared drive, atomically, under a per-term lock (`edition`)."""
