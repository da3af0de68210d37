"""The city console: server-rendered Chinese pages (no JavaScript) over the same services as the API.
Login sets an HttpOnly, SameSite=Strict cookie holding the session token; every page checks it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from city import auth, monitor, reports
from city.api.deps import COOKIE, City
from city.console import pages
from city.partitions import SHANGHAI

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter(prefix="/console", include_in_schema=False)
NO_CACHE = {"Cache-Control": "no-store"}


def _city(request: Request) -> City:
    state: City = request.app.state.city
    return state


def _user(request: Request) -> auth.CityUser | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    c = _city(request)
    try:
        return auth.authenticate(c.engine, token, c.clock.now())
    except auth.AuthError:
        return None


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=NO_CACHE)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=303)


@router.get("")
def root() -> RedirectResponse:
    """/console → /console/."""
    return RedirectResponse("/console/", status_code=307)


@router.get("/")
def login_page(request: Request) -> Response:
    """The login form (straight to the halls when already logged in)."""
    if _user(request) is not None:
        return RedirectResponse("/console/halls", status_code=303)
    return _html(pages.login())


@router.post("/login")
async def login_submit(request: Request) -> Response:
    """Check the password; on success set the session cookie and go to the halls."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username = (form.get("username") or [""])[0].strip()
    password = (form.get("password") or [""])[0]
    c = _city(request)
    try:
        token, _ = auth.login(c.engine, username[:32], password[:128], c.clock.now())
    except auth.AuthError as exc:
        return _html(pages.login(str(exc), username), 401)
    response = RedirectResponse("/console/halls", status_code=303)
    response.set_cookie(COOKIE, token, max_age=auth.SESSION_HOURS * 3600, httponly=True, samesite="strict", path="/")
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """Revoke the session and go back to the login form."""
    token = request.cookies.get(COOKIE)
    if token:
        auth.logout(_city(request).engine, token)
    response = _to_login()
    response.delete_cookie(COOKIE, path="/")
    return response


def _alerts(c: City, now: datetime) -> list[monitor.Alert]:
    """Today's alerts across halls, as the city's settings define them."""
    today = now.astimezone(SHANGHAI).date()
    return monitor.alerts(c.engine, now, today, c.settings.silent_after_min, c.settings.long_wait_min)


@router.get("/halls")
def halls_page(request: Request) -> Response:
    """各大厅: every hall's live state."""
    user = _user(request)
    if user is None:
        return _to_login()
    c = _city(request)
    now = c.clock.now()
    found = _alerts(c, now)
    return _html(pages.halls(user, now, monitor.live(c.engine, now), found, c.settings.silent_after_min))


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    """告警: alerts across halls."""
    user = _user(request)
    if user is None:
        return _to_login()
    c = _city(request)
    now = c.clock.now()
    found = _alerts(c, now)
    return _html(pages.alerts(user, now, found))


@router.get("/overdue")
def overdue_page(request: Request) -> Response:
    """超期清单: overdue cases, rectifications and complaints across halls."""
    user = _user(request)
    if user is None:
        return _to_login()
    c = _city(request)
    today = c.clock.now().astimezone(SHANGHAI).date()
    return _html(pages.overdue(user, today, monitor.overdue(c.engine, today)))


@router.get("/reports")
def reports_page(request: Request, month: str | None = None, by: str = "level", level: str | None = None) -> Response:
    """统计报表: one month by level, hall, department or item."""
    user = _user(request)
    if user is None:
        return _to_login()
    c = _city(request)
    today = c.clock.now().astimezone(SHANGHAI).date()
    month = month or f"{today:%Y-%m}"
    level = level or None
    try:
        start, end = reports.month_range(month)
        rows = reports.report(c.engine, start, end, by, today, level=level)
        error = None
    except reports.ReportError as exc:
        rows, error = [], str(exc)
    return _html(pages.report(user, month, by, level, rows, error), 200 if error is None else 422)


def install(app: FastAPI) -> None:
    """Mount the console's stylesheet and pages on the city app."""
    app.mount("/console/static", StaticFiles(directory=STATIC), name="city-console-static")
    app.include_router(router)
