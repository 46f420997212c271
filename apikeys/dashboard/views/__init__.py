"""The dashboard's views: function views, so each one's whole control flow is visible."""

from apikeys.dashboard.views.keys import (
    key_deactivate,
    key_delete,
    key_detail,
    key_edit,
    key_list,
    key_reactivate,
)
from apikeys.dashboard.views.projects import home, project_admin, project_list
from apikeys.dashboard.views.signin import login
from apikeys.dashboard.views.wizard import wizard_start, wizard_step

__all__ = [
    "home",
    "key_deactivate",
    "key_delete",
    "key_detail",
    "key_edit",
    "key_list",
    "key_reactivate",
    "login",
    "project_admin",
    "project_list",
    "wizard_start",
    "wizard_step",
]
