"""The Chinese texts citizens receive. Parameters hold no plaintext personal data: ticket numbers, item
names, dates, serial numbers; a name, where one is ever needed, only masked."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Any

from hallcore.errors import HallError

OPT_OUT_HINT = "回复TD退订"

# template name → text; {hall} is the hall's name, filled in by render(); a rating invitation's {link} and
# {code}, and a case lookup's {code}, are added as it is sent (notify/links.py), never stored.
FILLED_AT_SEND = {"rating_invite": {"link", "code"}, "lookup_code": {"code"}}
TEMPLATES: dict[str, str] = {
    "near_turn": "【{hall}】您的{ticket}号前面还有{ahead}位，请到{group}附近留意叫号，过号需重新排队。",
    "appointment_day": "【{hall}】您已预约{date} {time}办理“{item}”，请携带身份证和申请材料按时到大厅签到。",
    "appointment_hour": "【{hall}】您预约的“{item}”将于{time}开始办理，请提前到大厅自助机凭身份证签到。",
    "supplement_deadline": "【{hall}】您办理的“{item}”尚需补正材料，请于{deadline}前按一次性告知书补齐后到窗口提交。",
    "rongque_deadline": (
        "【{hall}】您容缺受理的“{item}”（流水号{serial}）尚欠材料，请于{deadline}前补交，逾期将影响办理。"
    ),
    "case_result": "【{hall}】您办理的“{item}”（流水号{serial}）办理进度：{status}。",
    "ready_to_collect": "【{hall}】您办理的“{item}”（流水号{serial}）已办结，请携带身份证到{place}领取。",
    "lookup_code": "【{hall}】您的办件查询验证码为{code}，5分钟内有效。如非本人操作请忽略，切勿告诉他人。",
    "rating_invite": (
        "【{hall}】感谢您办理“{item}”（{ticket}号），请点击 {link} 评价本次服务（7天内有效，限评一次），"
        "或回复数字：5非常满意 4满意 3基本满意 2不满意 1非常不满意。评价码{code}。"
    ),
}


def fields(template: str) -> set[str]:
    """The parameters a template needs (besides the hall name)."""
    return {name for _, name, _, _ in Formatter().parse(TEMPLATES[template]) if name} - {"hall"}


def check(template: str, params: Mapping[str, Any], *, sending: bool = False) -> None:
    """Refuse an unknown template or missing parameters before anything is queued (or, `sending`, rendered)."""
    if template not in TEMPLATES:
        raise HallError("invalid", f"未知的通知模板 {template}")
    later = set() if sending else FILLED_AT_SEND.get(template, set())
    missing = fields(template) - set(params) - later
    if missing:
        raise HallError("invalid", f"通知模板 {template} 缺少参数：{', '.join(sorted(missing))}")


def render(template: str, params: Mapping[str, Any], hall_name: str) -> str:
    """The message text, ending with how to opt out."""
    check(template, params, sending=True)
    return TEMPLATES[template].format(hall=hall_name, **params) + OPT_OUT_HINT
