"""``GET /read/<token>``: a reader's own copy of one newsletter, the mail's twin as a page.

The token (signed, per reader, no expiry) names the reader and the digests the
mail covered, so the page shows what that mail showed: the same sections, the
same papers in the same order and numbering (the list comes from
:func:`digest.pipeline.compose.reader_copy`, the mail's own selection), then
the rest of the reader's list, which the mail's "and N more" links into at
``#paper-<N+1>``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..locations import urls
from ..pipeline.compose import reader_copy
from ..render.mail import arrange
from ..tokens import TokenError
from .context import NO_STORE, site_of
from .views import AUTHORS_ON_PAGES, long_day

_ROBOTS = {"X-Robots-Tag": "noindex"}  # a personal link


async def reader_copy_page(request: Request) -> Response:
    site = site_of(request)
    token = str(request.path_params["token"])
    try:
        if len(token) > site.limits.token_chars:
            raise TokenError("this link is not valid")
        reader_id, after, through = site.tokens.copy_of(token)
    except TokenError as error:
        return site.message(request, 400, "This link does not work", f"{str(error).capitalize()}.")
    found = await site.query(lambda db: reader_copy(site.settings, db, reader_id, after, through))
    if found is None:
        return site.message(
            request, 404, "This digest is gone", "The reader or the digest of this link is no more."
        )
    chosen = found.chosen
    max_papers = site.settings.mail.max_papers
    arrangement = arrange(
        chosen.papers,
        limit=max_papers,
        reasons=chosen.reasons,
        sections=chosen.sections,
        authors_shown=AUTHORS_ON_PAGES,
    )
    context = {
        "label": long_day(found.created.date()),
        "email": found.reader.email,
        "count": len(chosen.papers),
        "shown": len(arrangement.shown),
        "groups": arrangement.groups,
        "rest": arrangement.rest,
        "preferences_url": urls(site.settings).preferences(
            site.tokens.for_subscriber(found.reader.id)
        ),
    }
    return site.page(request, "reader.html.j2", context, cache=NO_STORE, headers=_ROBOTS)
