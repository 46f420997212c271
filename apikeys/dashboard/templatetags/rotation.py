"""``{% key_transition key as transition %}``: the rotation state on the key's page.

The key page's view belongs to the dashboard; the rotation panel it includes
asks for its own state here, so the panel needs nothing from that view.
"""

from __future__ import annotations

from django import template

from apikeys.models import APIKey
from apikeys.reports.transition import Transition, transition

register = template.Library()


@register.simple_tag
def key_transition(key: APIKey) -> Transition | None:
    return transition(key)
