"""The OpenAPI 3.1 document of /api/v1/, in pieces (the view is api.views.openapi).

components.py  error codes, envelopes, headers, parameters, the operation builder
schemas.py     Run, Bug, Build and their parts
paths.py       the key, runs, builds and the upload protocol, one function per group
exposure.py    the secret-scanning and revocation endpoints
"""
