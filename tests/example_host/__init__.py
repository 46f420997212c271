"""A second Django project that hosts apikeys alone (issue 8 item 8, SPEC §12).

It has its own settings, permissions and key prefix, no ``api`` and no ``nunu_admin``,
and guards one resource three ways: a plain Django view (the middleware with
``require_permission``), a DRF view and a ninja operation; the dashboard is mounted
at ``/keys/``. Its tests run in their own pytest invocation (``make test``) with this
folder's pytest.ini, so none of the nunu site's fixtures or settings are loaded.
"""
