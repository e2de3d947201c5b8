"""``<html lang>`` of the Dash pages' document, set on the server so it is right before any script runs.

The language is the one the page will speak (``?lang=``, else the user's stored choice, else the
site's default); ``assets/page-lang.js`` keeps it right when Dash changes pages in the browser.
"""

from __future__ import annotations

import flask

from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise
from watchwall.dashboard.language import stored_language

DASH_DOCUMENT_START = b"<!DOCTYPE html>\n<html>"


def request_language() -> str:
    requested = flask.request.args.get("lang")
    if requested:
        return normalise(requested)
    principal = current_principal()
    if principal is not None:
        stored = stored_language(current().engine, principal.username)
        if stored:
            return stored
    return normalise(current().settings.language)


def install(server: flask.Flask) -> None:
    @server.after_request
    def _set_lang(response: flask.Response) -> flask.Response:
        if response.mimetype != "text/html" or response.direct_passthrough or response.status_code != 200:
            return response
        body = response.get_data()
        if not body.startswith(DASH_DOCUMENT_START):
            return response  # the login and error pages write their own lang
        opening = f'<!DOCTYPE html>\n<html lang="{request_language()}">'.encode()
        response.set_data(opening + body[len(DASH_DOCUMENT_START) :])
        return response
