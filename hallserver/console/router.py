"""The web console for staff and managers: plain HTML pages and local static files under /console/.

Pages are static shells; all data comes from the REST API with the user's bearer token, which is where
authorisation is enforced. A page's `data-roles` only decides whether the shell shows 无权访问."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from hallcore.errors import NotFound

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
STATIC = HERE / "static"
PAGE_NAME = re.compile(r"^[a-z][a-z0-9\-]{0,30}$")
# The hall LAN is offline and pages change with the server: always revalidate, never use a stale copy.
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(prefix="/console", include_in_schema=False)


class _Static(StaticFiles):
    """Static files that browsers revalidate (ETag) instead of caching blindly."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(NO_CACHE)
        return response


def page_file(name: str) -> Path | None:
    """The HTML file of a console page, if there is one by that name."""
    if not PAGE_NAME.match(name):
        return None
    path = PAGES / f"{name}.html"
    return path if path.is_file() else None


@router.get("")
def console_root() -> RedirectResponse:
    """/console → /console/ (relative links resolve from there)."""
    return RedirectResponse("/console/", status_code=307)


@router.get("/")
def console_home() -> FileResponse:
    """The login page."""
    return FileResponse(PAGES / "login.html", headers=NO_CACHE)


@router.api_route("/{name}", methods=["GET", "HEAD"])
def console_page(name: str) -> FileResponse:
    """Any page in pages/: /console/staff → pages/staff.html."""
    path = page_file(name)
    if path is None:
        raise NotFound(f"没有名为 {name} 的页面")
    return FileResponse(path, headers=NO_CACHE)


def site_root() -> RedirectResponse:
    """/ → the console's login page: what a person who types the server's address wants."""
    return RedirectResponse("/console/", status_code=307)


def install(app: FastAPI) -> None:
    """Mount the console on the app: static files first (a Mount must precede the page catch-all), and send
    the site's root to it."""
    app.mount("/console/static", _Static(directory=STATIC), name="console-static")
    app.include_router(router)
    app.add_api_route("/", site_root, methods=["GET", "HEAD"], include_in_schema=False)
