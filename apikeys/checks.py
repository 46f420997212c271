"""System check: every view under /api/ declares who may call it (deny by default)."""
