"""Leaked keys (SPEC §11): find the live keys among reported tokens and expose them.

Three ways a key is reported: GitHub's secret scanning (``github``), anyone who
found one posting it to the revocation API (``revocation-api``), and a client
putting it in a request's URL (``url``, found by the guard). All three go
through :func:`apikeys.exposure.lookup.live_key`, so a report costs what a
request with the same key would, and through :func:`apikeys.services.key_expose`.
"""
