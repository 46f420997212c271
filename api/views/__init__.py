"""The guarded JSON views of /api/v1/ (SPEC §4): one module per resource.

Each view declares the permission it needs (apikeys.decorators); the guard has
already authenticated the key, so ``request.api_key`` is set and every query
is scoped to ``request.api_key.project_id``.
"""
