"""Sign-in for the dashboard, shipped with the app so a host needs no template of its
own: Django's LoginView on ``apikeys/login.html``, behind the failed sign-in throttle
(SPEC §10). Route it at the host's ``LOGIN_URL``; ``include("apikeys.urls")`` serves it
at ``login/`` (``apikeys:login``), which ``LOGIN_URL = "apikeys:login"`` names."""

from django.contrib.auth import views as auth_views

from apikeys.dashboard.throttle import throttled

login = throttled(auth_views.LoginView.as_view(template_name="apikeys/login.html"))
