"""`{% load rotation %}`: registered here for Django's tag discovery, written in
:mod:`apikeys.dashboard.templatetags.rotation`."""

from apikeys.dashboard.templatetags.rotation import register

__all__ = ["register"]
