"""Header navigation: a link to every page the user's role may open, decided by the same rule that
guards the page (:func:`watchwall.dashboard.auth.page_rule`), so a link never leads to a refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dash
from dash import dcc, html

from watchwall.dashboard.accounts import Principal
from watchwall.dashboard.auth import current_principal, page_rule
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t

# top-level pages in header order; a page shows once it is registered (e.g. /incidents) and allowed
TOP_PAGES = (
    ("/wall", "nav.wall"),
    ("/incidents", "nav.incidents"),
    ("/rollcall", "nav.rollcall"),
    ("/recordings", "nav.recordings"),
    ("/reports", "nav.reports"),
    ("/admin", "nav.admin"),
)


@dataclass(frozen=True)
class NavItem:
    path: str
    label_key: str | None = None  # a translation key, or None for a centre (labelled by its name)
    centre: str | None = None


def nav_items(
    principal: Principal, context: AppContext, registered: Iterable[str], allowed: Callable = page_rule
) -> list[NavItem]:
    """The pages ``principal`` may open, among those ``registered`` (paths; centre pages by template)."""
    registered = set(registered)
    items = [
        NavItem(path, key)
        for path, key in TOP_PAGES[:1]
        if path in registered and allowed(path, principal, context) is True
    ]
    if "/centres/<code>" in registered:
        items += [
            NavItem(f"/centres/{centre.code}", centre=centre.code)
            for centre in context.site.centres
            if allowed(f"/centres/{centre.code}", principal, context) is True
        ]
    items += [
        NavItem(path, key)
        for path, key in TOP_PAGES[1:]
        if path in registered and allowed(path, principal, context) is True
    ]
    return items


def _registered_paths() -> list[str]:
    return [page.get("path_template") or page["path"] for page in dash.page_registry.values()]


def page_nav(language: str, path: str) -> html.Nav | None:
    """The header's navigation for the signed-in user; ``path`` is the page being shown."""
    principal = current_principal()
    if principal is None:
        return None
    context = current()
    items = nav_items(principal, context, _registered_paths())
    names = {centre.code: centre.label.get(language) for centre in context.site.centres}
    top = [item for item in items if item.centre is None]
    centres = [item for item in items if item.centre is not None]

    def link(item: NavItem) -> dcc.Link:
        here = path == item.path
        return dcc.Link(
            t(item.label_key, language) if item.label_key else names[item.centre],
            href=item.path,
            className="nav-link" + (" current" if here else ""),
        )

    children = [link(top[0])] if top and top[0].path == "/wall" else []
    if len(centres) == 1:
        children.append(link(centres[0]))
    elif centres:
        children.append(
            html.Details(
                [
                    html.Summary(t("nav.centres", language), className="nav-link"),
                    html.Div([link(item) for item in centres], className="nav-menu"),
                ],
                className="nav-centres",
            )
        )
    children += [link(item) for item in top if item.path != "/wall"]
    return html.Nav(children, className="page-nav", id="page-nav")
