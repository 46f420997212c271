"""Usage tracking (placeholder until the guard lands)."""


def flush_all() -> None:
    return None
