"""The /m/ routes: transport only; each page module renders its page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hallserver.mobile import case, case_by_id, complaint, rate, ticket_guide, ticket_notify
from hallserver.mobile.forms import read_form
from hallserver.mobile.hall import HallDep
from hallserver.mobile.html import error
from hallserver.mobile.limits import AttemptLimit
from hallserver.services.case_lookup_code import LookupCodes

router = APIRouter(prefix="/m", include_in_schema=False)
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.=")


def _token_ok(token: str) -> bool:
    return 8 <= len(token) <= 96 and set(token) <= TOKEN_CHARS


def _limit(request: Request) -> AttemptLimit:
    """One attempt limit per app (so two halls in one process never share counts)."""
    limit: AttemptLimit | None = getattr(request.app.state, "mobile_case_limit", None)
    if limit is None:
        limit = request.app.state.mobile_case_limit = AttemptLimit()
    return limit


def _codes(request: Request) -> LookupCodes:
    """The pending ID-and-SMS-code lookups of this app."""
    codes: LookupCodes | None = getattr(request.app.state, "mobile_lookup_codes", None)
    if codes is None:
        codes = request.app.state.mobile_lookup_codes = LookupCodes()
    return codes


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/t/{token}", response_class=HTMLResponse)
def ticket(token: str, hall: HallDep) -> HTMLResponse:
    """排队进度 from the slip's QR code."""
    if not _token_ok(token):
        return error("排队进度", "没有找到这张排队凭条，请核对二维码或咨询工作人员", hall.ctx.profile.hall.name, 404)
    return ticket_guide.ticket_page(hall, token)


@router.get("/t/{token}/notify", response_class=HTMLResponse)
def ticket_notify_form(token: str, hall: HallDep) -> HTMLResponse:
    """短信提醒: the number and consent form of a ticket."""
    if not _token_ok(token):
        return error("短信提醒", "没有找到这张排队凭条，请核对二维码或咨询工作人员", hall.ctx.profile.hall.name, 404)
    return ticket_notify.form_page(hall, token)


@router.post("/t/{token}/notify", response_class=HTMLResponse)
async def ticket_notify_submit(token: str, request: Request, hall: HallDep) -> HTMLResponse:
    """A phone number, with consent, for the ticket's messages."""
    if not _token_ok(token):
        return error("短信提醒", "没有找到这张排队凭条，请核对二维码或咨询工作人员", hall.ctx.profile.hall.name, 404)
    limit: AttemptLimit | None = getattr(request.app.state, "mobile_notify_limit", None)
    if limit is None:
        limit = request.app.state.mobile_notify_limit = AttemptLimit(attempts=3)
    return ticket_notify.subscribe(hall, token, _client(request), await read_form(request), limit)


@router.get("/guide/{code}", response_class=HTMLResponse)
def guide(code: str, hall: HallDep) -> HTMLResponse:
    """办事指南 from the guide's QR code."""
    return ticket_guide.guide_page(hall, code[:80])


@router.get("/case", response_class=HTMLResponse)
def case_form(request: Request, hall: HallDep, serial: str = "", code: str = "") -> HTMLResponse:
    """办件进度查询 form; the receipt's QR code fills in the serial and 查询码 (counted like a typed try)."""
    if serial and code:
        return case.case_result(hall, _client(request), {"serial": serial, "code": code}, _limit(request))
    return case.case_form(hall)


@router.post("/case", response_class=HTMLResponse)
async def case_query(request: Request, hall: HallDep) -> HTMLResponse:
    """办件进度 by serial + 查询码, a few tries per client."""
    fields = await read_form(request)
    return case.case_result(hall, _client(request), fields, _limit(request))


@router.post("/case/id", response_class=HTMLResponse)
async def case_by_id_request(request: Request, hall: HallDep) -> HTMLResponse:
    """凭身份证查询: send a one-time SMS code if a phone is on file (the same answer either way)."""
    return case_by_id.request_code(hall, _codes(request), _client(request), await read_form(request))


@router.post("/case/id/verify", response_class=HTMLResponse)
async def case_by_id_verify(request: Request, hall: HallDep) -> HTMLResponse:
    """The person's cases, once the SMS code matches (5 tries, 5 minutes)."""
    return case_by_id.verify(hall, _codes(request), await read_form(request))


@router.get("/rate/{token}", response_class=HTMLResponse)
def rate_form(token: str, hall: HallDep) -> HTMLResponse:
    """服务评价 from the one-time link."""
    if not _token_ok(token):
        return error("服务评价", "评价链接无效，请核对短信中的链接", hall.ctx.profile.hall.name, 404)
    return rate.rate_form(hall, token)


@router.post("/rate/{token}", response_class=HTMLResponse)
async def rate_submit(token: str, request: Request, hall: HallDep) -> HTMLResponse:
    """Record the rating."""
    if not _token_ok(token):
        return error("服务评价", "评价链接无效，请核对短信中的链接", hall.ctx.profile.hall.name, 404)
    return rate.rate_submit(hall, token, await read_form(request))


@router.get("/complaint", response_class=HTMLResponse)
def complaint_form(hall: HallDep) -> HTMLResponse:
    """投诉与办不成事."""
    return complaint.complaint_page(hall)


@router.get("/static/complaint.js")
def complaint_js() -> Response:
    """The complaint form's script."""
    return complaint.complaint_script()


@router.get("/{rest:path}", response_class=HTMLResponse)
def unknown(rest: str, hall: HallDep) -> HTMLResponse:
    """Any other /m/ address: a phone page saying so, not the API's JSON."""
    return error("页面不存在", "没有找到这个页面，请核对二维码或链接", hall.ctx.profile.hall.name, 404)
