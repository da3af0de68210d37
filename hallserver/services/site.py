"""What a site offers by its kind: a 24-hour self-service point (002 §43) has no windows, so it issues no
queue tickets; bookings, progress queries, ratings with proof and guide printing work as at a hall."""

from __future__ import annotations

from firmware_config.hall import SiteKind
from hallcore.errors import HallError
from hallserver.services.context import HallContext

NO_TICKETS = (
    "本站点为24小时自助服务点，不设办事窗口，不能取号排队。"
    "您可以在本机预约、查询办件进度、评价服务或打印办事指南，需要窗口办理的业务请到政务服务大厅取号。"
)


def check_issues_tickets(ctx: HallContext) -> None:
    """Refuse a queue ticket where no window could ever call it, with a clear Chinese message."""
    if ctx.profile.hall.site_kind == SiteKind.self_service_point:
        raise HallError("not_offered", NO_TICKETS, site_kind=ctx.profile.hall.site_kind.value)
