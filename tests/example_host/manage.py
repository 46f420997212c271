#!/usr/bin/env python
"""Acme's manage.py: python tests/example_host/manage.py check"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.example_host.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
