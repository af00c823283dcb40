"""Developer tools: the local stack, catalog seeding, demo tokens (never deployed)."""
