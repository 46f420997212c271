"""python manage.py createproject SLUG [--name NAME] [--admin USERNAME]"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from apikeys import services
from apikeys.management.base import BadInput, NotFound, cli_actor
from apikeys.management.base import Command as CLICommand
from apikeys.models import Membership, Project

SLUG_MAX_LENGTH = Project._meta.get_field("slug").max_length or 50
NAME_MAX_LENGTH = Project._meta.get_field("name").max_length or 200


class Command(CLICommand):
    help = (
        "Create a project. With --admin, that existing user becomes its admin. "
        "Messages go to stderr; nothing is printed on stdout."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", metavar="SLUG", help="letters, digits, - and _ (in URLs)")
        parser.add_argument("--name", help="display name (default: the slug)")
        parser.add_argument("--admin", metavar="USERNAME", help="an existing user to make admin")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["slug"].strip()
        name = (options["name"] or "").strip() or slug
        try:
            validate_slug(slug)
        except ValidationError:
            raise BadInput(
                f"{slug!r} is not a valid slug; use letters, digits, hyphens and underscores."
            ) from None
        if len(slug) > SLUG_MAX_LENGTH:
            raise BadInput(f"A project slug has at most {SLUG_MAX_LENGTH} characters.")
        if len(name) > NAME_MAX_LENGTH:
            raise BadInput(f"A project name has at most {NAME_MAX_LENGTH} characters.")

        admin = None
        if options["admin"]:
            username = options["admin"]
            user_model = get_user_model()
            admin = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
            if admin is None:
                raise NotFound(
                    f"No user named {username!r}; create it first "
                    "(python manage.py createsuperuser), then run this again."
                )

        actor = cli_actor()
        with transaction.atomic():
            try:
                project = services.project_create(slug=slug, name=name, actor=actor)
            except services.KeyInputError as error:
                raise BadInput(str(error)) from None
            if admin is not None:
                services.member_set(
                    project=project, user=admin, role=Membership.Role.ADMIN, actor=actor
                )

        with_admin = f" with admin {admin.get_username()}" if admin is not None else ""
        self.info(f"Created project {project.slug} ({project.name}){with_admin}.")
