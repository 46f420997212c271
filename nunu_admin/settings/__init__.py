"""Settings for nunu admin, read from the environment (README, "Configuration").

Every value a deployment may change comes from an environment variable with a
safe default for a developer's machine; production refuses to start without
a real DJANGO_SECRET_KEY.

One module per concern; each imports what it needs (DEBUG, BASE_DIR) from base and
sets names no other sets, so their order here does not matter. DJANGO_SETTINGS_MODULE
stays ``nunu_admin.settings``:

    env.py        env_bool, env_int, env_float: how a variable is read
    base.py       secret key, hosts, apps, middleware, templates, accounts, mail, logging
    database.py   DATABASES and their timeouts
    cache.py      CACHES (Redis or process memory)
    storage.py    static files, media, build storage
    security.py   HTTPS, HSTS, cookies, Content-Security-Policy
    api_keys.py   APIKEYS_*
"""

from nunu_admin.settings.api_keys import *  # noqa: F403
from nunu_admin.settings.base import *  # noqa: F403
from nunu_admin.settings.cache import *  # noqa: F403
from nunu_admin.settings.database import *  # noqa: F403
from nunu_admin.settings.env import *  # noqa: F403
from nunu_admin.settings.security import *  # noqa: F403
from nunu_admin.settings.storage import *  # noqa: F403
