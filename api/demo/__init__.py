"""The demo data `make run` shows (manage.py seed_demo): who signs in, the keys in every
state, their usage, and the runs, bugs and builds those keys made.

    keys.py     the demo keys, one per state the dashboard and the review tell apart
    seeder.py   Seeder: users, projects, keys and their usage, created only when missing
    runs.py     builds, runs and bugs, each saying which key started it

It lives in the ``api`` app because it seeds runs and builds, which ``apikeys``
must not know about.
"""
