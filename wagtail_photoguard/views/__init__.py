"""photoguard's own views (originals for permitted staff)."""
