"""Forms of the dashboard: the wizard's three input steps, edit and delete.

Each form validates on the server with the same rules as the services
(duplicate names, the project's expiry policy), so a message appears beside
the field before anything is written; the services check again when writing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms

from apikeys import allowlist, services
from apikeys.models import APIKey, Project
from apikeys.permissions import registry
from apikeys.selectors.detail import RECENT_USE_DAYS

CUSTOM = "custom"
EXPIRY_DAYS = (7, 30, 60, 90)
EXPIRY_DATE = "date"
EXPIRY_NONE = "none"


def permission_choices() -> list[tuple[str, str]]:
    return [(code, perm.label) for code, perm in registry.permissions.items()]


def preset_choices() -> list[tuple[str, str]]:
    return [*((slug, p.label) for slug, p in registry.presets.items()), (CUSTOM, "Custom")]


class AllowedIPsField(forms.CharField):
    """An IP allowlist typed one entry a line (or comma-separated), cleaned to the list the
    services store (apikeys.allowlist); a bad entry is a form error quoting it."""

    widget = forms.Textarea

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "IP allowlist")
        kwargs.setdefault(
            "help_text",
            f"Optional: the addresses or CIDR ranges the key may be used from, one a line "
            f"(e.g. 203.0.113.0/24 or 2001:db8::/48), at most {allowlist.MAX_ENTRIES}. "
            "Empty: any address.",
        )
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"rows": 3, "spellcheck": "false", "autocomplete": "off", "class": "monospace"}
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value)
        try:
            return services.clean_allowed_ips(allowlist.split(text))
        except services.KeyInputError as error:
            raise forms.ValidationError(str(error)) from None


def _name_error(project: Project, name: str, exclude_pk: int | None = None) -> str:
    try:
        return services.clean_name(project, name, exclude_pk=exclude_pk)
    except services.KeyInputError as error:
        raise forms.ValidationError(str(error)) from None


class DetailsForm(forms.Form):
    name = forms.CharField(
        max_length=services.MAX_NAME_LENGTH,
        help_text="Say where the key is used, e.g. “GitHub Actions: nightly build”.",
    )
    description = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: who owns it, what breaks if it is removed.",
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project

    def clean_name(self) -> str:
        return _name_error(self.project, self.cleaned_data["name"])


class PermissionsForm(forms.Form):
    preset = forms.ChoiceField(
        choices=preset_choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a preset, or Custom and the permissions you need."},
    )
    permissions = forms.MultipleChoiceField(
        required=False,
        choices=permission_choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        preset = data.get("preset")
        if preset in registry.presets:
            data["permissions"] = list(registry.presets[preset].permissions)
        elif preset == CUSTOM and not data.get("permissions"):
            self.add_error("permissions", "Tick at least one permission for a custom key.")
        return data


def expiry_from_choice(choice: str, chosen_date: date | None, *, now: datetime) -> datetime | None:
    """The expiry an Expiration choice means at ``now``: a date expires at 00:00 UTC."""
    if choice == EXPIRY_NONE:
        return None
    if choice == EXPIRY_DATE:
        if chosen_date is None:
            return None
        return datetime.combine(chosen_date, time.min, tzinfo=UTC)
    return now + timedelta(days=int(choice))


def expiry_allows_none(project: Project) -> bool:
    return not project.requires_expiry


TYPED_DATE_MAX_DAYS = 365
DEFAULT_EXPIRY_DAYS = 30


def default_expiry(values: list[str]) -> str:
    """The choice a new key starts with: 30 days (as GitHub), else the longest fixed
    choice the policy allows, else a date."""
    if str(DEFAULT_EXPIRY_DAYS) in values:
        return str(DEFAULT_EXPIRY_DAYS)
    fixed = [value for value in values if value.isdigit()]
    return fixed[-1] if fixed else EXPIRY_DATE


class ExpirationForm(forms.Form):
    expiry = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={"required": "Choose when the key expires."},
    )
    expiry_date = forms.DateField(
        required=False,
        label="Expiry date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at 00:00 UTC on this day.",
    )
    allowed_ips = AllowedIPsField()

    def __init__(self, *args: Any, project: Project, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.now = now
        limit = project.max_key_lifetime_days
        choices = [
            (str(days), f"{days} days") for days in EXPIRY_DAYS if limit is None or days <= limit
        ]
        choices.append((EXPIRY_DATE, "On a date"))
        if expiry_allows_none(project):
            choices.append((EXPIRY_NONE, "No expiry"))
        self.expiry_values = [value for value, _ in choices]
        self.expiry_field.choices = choices
        self.fields["expiry_date"].widget.attrs["min"] = (now + timedelta(days=1)).date()
        # A typed date may go as far as the policy allows, else a year (as GitHub's
        # fine-grained tokens): a date years away is a typo more often than a plan.
        self.latest_date = self.date_cap(project, now)
        self.fields["expiry_date"].widget.attrs["max"] = self.latest_date
        if not self.is_bound and not self.initial.get("expiry"):
            self.initial["expiry"] = default_expiry(self.expiry_values)

    @staticmethod
    def date_cap(project: Project, now: datetime) -> date:
        latest = project.latest_expiry(now)
        if latest is not None:
            return latest.date()
        return (now + timedelta(days=TYPED_DATE_MAX_DAYS)).date()

    @property
    def expiry_field(self) -> forms.ChoiceField:
        field = self.fields["expiry"]
        assert isinstance(field, forms.ChoiceField)
        return field

    def choice_dates(self) -> dict[str, datetime | None]:
        """The date each fixed choice would give, shown beside it."""
        return {
            value: expiry_from_choice(value, None, now=self.now)
            for value in self.expiry_values
            if value != EXPIRY_DATE
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("expiry")
        if not choice:
            return data
        if choice == EXPIRY_DATE and not data.get("expiry_date"):
            self.add_error("expiry_date", "Enter the date the key should expire.")
            return data
        # The policy's own limit is checked below with its message; without one, a year.
        no_policy_limit = self.project.latest_expiry(self.now) is None
        if choice == EXPIRY_DATE and no_policy_limit and data["expiry_date"] > self.latest_date:
            self.add_error(
                "expiry_date",
                f"Choose a date on or before {self.latest_date.isoformat()}: a typed date may "
                "be at most a year ahead (choose “No expiry” for a key that never expires).",
            )
            return data
        expires_at = expiry_from_choice(choice, data.get("expiry_date"), now=self.now)
        try:
            services.validate_expiry(self.project, expires_at, now=self.now)
        except services.PolicyError as error:
            field = "expiry_date" if choice == EXPIRY_DATE else "expiry"
            self.add_error(field, str(error))
        data["expires_at"] = expires_at
        return data


class EditKeyForm(forms.Form):
    name = forms.CharField(max_length=services.MAX_NAME_LENGTH)
    description = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    permissions = forms.MultipleChoiceField(
        choices=permission_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "A key needs at least one permission."},
    )
    allowed_ips = AllowedIPsField()

    def __init__(self, *args: Any, key: APIKey, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": key.name,
                "description": key.description,
                "permissions": key.permissions,
                "allowed_ips": key.allowed_ips,
            },
        )
        super().__init__(*args, **kwargs)
        self.key = key

    def clean_name(self) -> str:
        return _name_error(self.key.project, self.cleaned_data["name"], exclude_pk=self.key.pk)


class DeleteKeyForm(forms.Form):
    """Typing the key's name is asked for only when the key was used recently
    (apikeys.selectors.detail.RECENT_USE_DAYS)."""

    confirm_name = forms.CharField(required=False, label="Type the key's name to confirm")

    def __init__(self, *args: Any, key: APIKey, require_name: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key
        self.require_name = require_name
        if not require_name:
            del self.fields["confirm_name"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.require_name and (data.get("confirm_name") or "").strip() != self.key.name:
            self.add_error(
                "confirm_name",
                f"This key was used in the last {RECENT_USE_DAYS} days; "
                f"type {self.key.name!r} to delete it.",
            )
        return data
