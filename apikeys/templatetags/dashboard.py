"""`{% load dashboard %}`: Django finds tag libraries only in an app's own
``templatetags`` package, so the dashboard's library is registered here and
written in :mod:`apikeys.dashboard.templatetags.dashboard`."""

from apikeys.dashboard.templatetags.dashboard import register

__all__ = ["register"]
