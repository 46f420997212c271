"""Every write to projects, keys and the audit log. Views and commands call these.

Each function is keyword-only, runs in one transaction, enforces the project's
key policy, and records an audit event. None takes a request: the caller says
who acts with an :class:`Actor`. The plaintext of a new key exists only in the
return value of :func:`key_create` and :func:`key_rotate`.

    audit.py      Actor, audit_record
    policy.py     the policy's and the input's refusals (PolicyError, KeyInputError)
    lifecycle.py  create, update, deactivate, reactivate, delete a key
    rotation.py   rotate a key, the grace periods
    exposure.py   expose a leaked key (for good), and mail its people once
    projects.py   projects, members (the last-admin rule), policy, expiry notices
    tokens.py     the dashboard forms' one-time tokens (claimed once, in the database)
    retention.py  how long per-address usage is kept (pruned by manage.py prune_usage)
"""

from apikeys.services.audit import Actor, audit_record
from apikeys.services.exposure import key_expose, notify_exposed, token_sha256
from apikeys.services.lifecycle import (
    hasher,
    key_create,
    key_deactivate,
    key_delete,
    key_reactivate,
    key_update,
)
from apikeys.services.policy import (
    MAX_NAME_LENGTH,
    KeyInputError,
    PolicyError,
    clean_allowed_ips,
    clean_name,
    default_lifetime,
    validate_expiry,
)
from apikeys.services.projects import (
    LAST_ADMIN,
    LastAdminError,
    expiry_notice_send,
    member_remove,
    member_set,
    policy_update,
    project_create,
)
from apikeys.services.retention import address_usage_prune
from apikeys.services.rotation import (
    GRACE_PERIODS,
    AlreadyRotatedError,
    grace_label,
    key_rotate,
)
from apikeys.services.tokens import token_claim, token_is_used, token_release

__all__ = [
    "GRACE_PERIODS",
    "LAST_ADMIN",
    "MAX_NAME_LENGTH",
    "Actor",
    "AlreadyRotatedError",
    "KeyInputError",
    "LastAdminError",
    "PolicyError",
    "address_usage_prune",
    "audit_record",
    "clean_allowed_ips",
    "clean_name",
    "default_lifetime",
    "expiry_notice_send",
    "grace_label",
    "hasher",
    "key_create",
    "key_deactivate",
    "key_delete",
    "key_expose",
    "key_reactivate",
    "key_rotate",
    "key_update",
    "member_remove",
    "member_set",
    "notify_exposed",
    "policy_update",
    "project_create",
    "token_claim",
    "token_is_used",
    "token_release",
    "token_sha256",
    "validate_expiry",
]
