"""The web side of ``digest serve``: feeds with ETag/304, the archive, sign-up and unsubscribe.

:func:`create_app` builds the Starlette app. The modules follow the requests:
``published`` serves feeds, archives and OPML (with ``feeds`` doing the
conditional GETs), ``pages`` the pages people read and the health check
(kept rendered by ``page_cache``), ``subscribe`` the double opt-in and the
one-click unsubscribe, ``security`` the CSRF checks, rate limits and headers;
``context`` is what they share.
"""

from .app import create_app

__all__ = ["create_app"]
