"""What every apikeys management command shares.

CI scripts read these commands' output to the letter, so the rules are fixed:

* stdout carries only the result (a key, a list); messages go to stderr;
* bad input is exactly one line on stderr, ``<command>: error: <sentence>``,
  never a traceback, and a non-zero exit status:

  ====  ==============================================================
  0     done
  1     not found: the project, key or user named does not exist
  2     bad input: usage, a malformed value, or a request the
        project's key policy refuses
  ====  ==============================================================
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    handle_default_options,
)
from django.db import DatabaseError, connections

from apikeys import allowlist, keys
from apikeys.conf import key_format
from apikeys.services import Actor

EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2

EXIT_CODES_HELP = (
    "Exit status: 0 done; 1 the project, key or user named does not exist; "
    "2 bad input (usage, a malformed value, or refused by the project's key policy). "
    "Errors are one line on stderr."
)


class NotFound(CommandError):
    """The project, key or user the command names does not exist (exit 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, returncode=EXIT_NOT_FOUND)


class BadInput(CommandError):
    """Malformed input, or input the key policy refuses (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, returncode=EXIT_BAD_INPUT)


class UsageError(BadInput):
    """argparse refused the command line; ``prog`` names the (sub)command."""

    def __init__(self, message: str, *, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class OneLineParser(CommandParser):
    """argparse, but a refusal is one line instead of the usage block and a message.

    It raises instead of exiting so that call_command() sees a CommandError and
    the command line prints it through :meth:`Command.run_from_argv`.
    """

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(f"{message[:1].upper()}{message[1:]}.", prog=self.prog)


def one_line(error: CommandError, command: str) -> str:
    """``<command>: error: <message>`` on one line, whatever the message holds."""
    prog = getattr(error, "prog", "") or command
    # argparse's prog starts with how Django was called (manage.py, django-admin, ...).
    start = prog.find(command)
    label = prog[start:] if start >= 0 else command
    message = " ".join(str(error).split()) or "failed."
    return f"{label}: error: {message}"


class Command(BaseCommand):
    """A management command whose errors follow the rules in this module's docstring."""

    # Checks print warnings on stderr; a script parsing the output must not get
    # them (Django's createsuperuser skips them for the same reason).
    requires_system_checks: list[str] = []  # type: ignore[assignment]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds a CommandParser; give it (and, through type(self), its
        # subparsers) the one-line error.
        parser.__class__ = OneLineParser
        if parser.epilog is None:
            parser.epilog = EXIT_CODES_HELP
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        self._called_from_command_line = True
        show_traceback = "--traceback" in argv
        try:
            parser = self.create_parser(argv[0], argv[1])
            options = parser.parse_args(argv[2:])
            cmd_options = vars(options)
            args = cmd_options.pop("args", ())
            handle_default_options(options)
            self.execute(*args, **cmd_options)
        except CommandError as error:
            if show_traceback:
                raise
            self.stderr.write(one_line(error, argv[1]))
            sys.exit(error.returncode)
        except DatabaseError as error:
            if show_traceback:
                raise
            # Most often a database that was never migrated: say so on one line.
            first_line = (str(error).splitlines() or [type(error).__name__])[0]
            self.stderr.write(
                f"{argv[1]}: error: database error: {first_line} "
                "(did you run `python manage.py migrate`?)"
            )
            sys.exit(1)
        finally:
            self._close_connections()

    def _close_connections(self) -> None:
        connections.close_all()

    def info(self, message: str) -> None:
        """A message for the person at the terminal: stderr, uncoloured."""
        self.stderr.write(message, style_func=lambda text: text)


def cli_actor() -> Actor:
    """Who the audit log records for a change made from the command line."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in some containers
        user = "unknown"
    return Actor.cli(label=f"cli:{user}")


# --- Argument types (argparse turns ArgumentTypeError into a usage error) --

_DURATION_RE = re.compile(r"(?P<amount>\d{1,6})(?P<unit>[dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def duration(value: str) -> timedelta:
    """``30d``, ``12h``, ``90m`` or ``45s`` as a timedelta; nothing else."""
    match = _DURATION_RE.fullmatch(value.strip())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration; write a whole number and a unit: 30d, 12h, 90m or 45s"
        )
    amount = int(match["amount"])
    if amount == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration longer than zero")
    return timedelta(**{_UNITS[match["unit"]]: amount})


def allowed_ip(value: str) -> str:
    """One IP allowlist entry (an address or CIDR range), normalized (apikeys.allowlist)."""
    try:
        return str(allowlist.parse_entry(value))
    except allowlist.AllowlistError as error:
        raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None


def iso_datetime(value: str) -> datetime:
    """An ISO 8601 date or date and time; without a time zone it is UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 date; write e.g. 2026-12-31 or 2026-12-31T18:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def key_id(value: str) -> str:
    """The 12-character public id of a key; never echo what might be a whole key."""
    value = value.strip()
    lead = key_format().lead
    if value.startswith(lead):
        raise argparse.ArgumentTypeError(
            f"pass only the key's 12-character id (the part after {lead}), not the key; "
            "see `apikey list`"
        )
    if not keys.is_key_id(value):
        shown = repr(value) if len(value) <= 40 else "the value given"
        raise argparse.ArgumentTypeError(
            f"{shown} is not a key id; a key id is 12 letters and digits (see `apikey list`)"
        )
    return value


def iso_utc(moment: datetime | None) -> str | None:
    """2026-11-27T05:09:55Z: UTC, whole seconds, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
