"""The four-step key wizard (SPEC §6) and the page that shows a new key once.

state.py    the wizard's state in the session, and where it sends the admin
steps.py    the two views: start, and steps 1-3 (details, permissions, expiration)
review.py   step 4: review, create, and the show-once page (its security model)
"""

from apikeys.dashboard.views.wizard.steps import wizard_start, wizard_step

__all__ = ["wizard_start", "wizard_step"]
