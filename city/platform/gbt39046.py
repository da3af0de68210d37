"""好差评 data records for the provincial platform (003 §38(四)), after GB/T 39046-2020 (政务服务平台基础数据规范)
and GB/T 39734-2020 (“一次一评”“一事一评”): one record per evaluation and one per rectification change.

The mapping, field by field (JSON key — 数据项名称 — type and format — source):

| key | 数据项 | format | from |
|---|---|---|---|
| record_id | 评价编号 / 整改编号 | an..64 `<hall>-E<id>` / `<hall>-R<id>` | hall code + the hall's id |
| record_type | 数据类别 | `evaluation` 评价 · `rectification` 差评整改 | |
| version | 数据版本 | n..19, the city's (hall, seq): higher replaces lower | envelope seq |
| project_no | 办件编号 | an..50, `[0-9A-Za-z\\-]` | the case serial; no case: `<hall>V<visit id, 12 digits>` |
| item_code | 事项编码 | an..64 or null | |
| department | 实施主体 | ..60 characters or null | |
| region_code | 行政区划代码 | n6 (GB/T 2260) | the hall's registry entry |
| hall_code | 服务机构编码 | an4 | |
| channel | 评价渠道 | n1: 1 PC端 2 移动端 3 二维码 4 窗口评价器 5 短信 6 热线 7 自助终端 | evaluator 4, kiosk 7 |
| evaluated_at | 评价时间 | `YYYY-MM-DD hh:mm:ss` (GB/T 7408, Beijing time) | |
| satisfaction | 整体满意度 | n1: 1 = 非常满意 … 5 = 非常不满意 (GB code; the bus has 5 = 非常满意) | level_gb |
| evaluation_kind | 评价类型 | n1: 1 初评 2 追评（整改后回访） | |
| is_bad | 是否差评 | n1: 0/1 (4 and 5 are 差评) | |
| indicators | 评价指标 | list of {code: 01 服务态度 · 02 服务效率 · 03 服务水平, satisfaction n1} | |
| comment | 文字评价 | ..500 characters, ID and phone numbers masked | |
| rectify_state | 整改状态 | n1: 1 待回访 2 已回访 3 已整改 4 已确认 5 已办结 | rectification.state |
| evaluation_record_id | 关联评价编号 | an..64 | |
| opened_at / closed_at | 整改开始 / 办结时间 | `YYYY-MM-DD hh:mm:ss` or null | |
| deadline | 整改期限 | `YYYY-MM-DD` | |
| on_time | 是否按期整改 | n1 0/1, null while open | |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
CHANNELS = {"pc": 1, "mobile": 2, "qr": 3, "evaluator": 4, "sms": 5, "hotline": 6, "kiosk": 7}
INDICATOR_CODES = {"attitude": "01", "efficiency": "02", "skill": "03"}
INDICATOR_NAMES = {"01": "服务态度", "02": "服务效率", "03": "服务水平"}
RECTIFY_STATES = {"open": 1, "called_back": 2, "rectified": 3, "confirmed": 4, "closed": 5}
TIME = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
DAY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
PROJECT_NO = re.compile(r"^[0-9A-Za-z\-]{1,50}$")
RECORD_ID = re.compile(r"^[0-9A-Z]{4}-[ER][0-9]{1,19}$")
ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}[0-9Xx](?![0-9])")
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")

Check = Callable[[Any], str | None]


def stamp(value: datetime) -> str:
    """GB/T 7408 extended date and time in Beijing time, no offset (the platform's convention)."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def visit_project_no(hall: str, visit_id: int) -> str:
    """办件编号 for a visit that opened no case (当场办结, 咨询): unique per hall, fits an..50."""
    return f"{hall}V{visit_id:012d}"


# --- field checks: None when fine, else the problem in Chinese ---


def _pattern(regex: re.Pattern[str], what: str) -> Check:
    return lambda v: None if isinstance(v, str) and regex.match(v) else f"应为{what}"


def _text(limit: int, nullable: bool = True) -> Check:
    def check(v: Any) -> str | None:
        if v is None:
            return None if nullable else "不能为空"
        if not isinstance(v, str) or not v.strip():
            return "应为非空文本"
        if len(v) > limit:
            return f"超过 {limit} 个字符"
        if ID_NUMBER.search(v) or PHONE.search(v):
            return "含有未脱敏的身份证号或手机号"
        return None

    return check


def _code(allowed: set[int]) -> Check:
    return lambda v: (
        None if isinstance(v, int) and not isinstance(v, bool) and v in allowed else f"应为代码 {sorted(allowed)} 之一"
    )


def _optional(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def _time(v: Any) -> str | None:
    if not isinstance(v, str) or not TIME.match(v):
        return "应为 YYYY-MM-DD hh:mm:ss"
    try:
        datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return "不是有效的日期时间"
    return None


def _day(v: Any) -> str | None:
    if not isinstance(v, str) or not DAY.match(v):
        return "应为 YYYY-MM-DD"
    try:
        date.fromisoformat(v)
    except ValueError:
        return "不是有效的日期"
    return None


def _version(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) and 1 <= v < 2**63 else "应为正整数"


def _indicators(v: Any) -> str | None:
    if not isinstance(v, list) or len(v) > len(INDICATOR_NAMES):
        return "应为评价指标列表（最多 3 项）"
    seen = set()
    for entry in v:
        if not isinstance(entry, dict) or set(entry) != {"code", "name", "satisfaction"}:
            return "每项应含 code、name、satisfaction"
        if entry["code"] not in INDICATOR_NAMES or INDICATOR_NAMES[entry["code"]] != entry["name"]:
            return f"指标代码 {entry.get('code')!r} 或名称不正确"
        if _code({1, 2, 3, 4, 5})(entry["satisfaction"]) is not None or entry["code"] in seen:
            return f"指标 {entry['code']} 的满意度应为 1–5 且不重复"
        seen.add(entry["code"])
    return None


COMMON: dict[str, Check] = {
    "record_id": _pattern(RECORD_ID, "大厅编码-E/R编号（an..64）"),
    "record_type": lambda v: None if v in ("evaluation", "rectification") else "应为 evaluation 或 rectification",
    "version": _version,
    "project_no": _pattern(PROJECT_NO, "办件编号（an..50）"),
    "item_code": _optional(_pattern(re.compile(r"^[0-9A-Za-z\-]{1,64}$"), "事项编码（an..64）")),
    "department": _text(60),
    "region_code": _pattern(re.compile(r"^[1-9][0-9]{5}$"), "6 位行政区划代码（GB/T 2260）"),
    "hall_code": _pattern(re.compile(r"^[0-9A-Z]{4}$"), "4 位大厅编码"),
}
EVALUATION: dict[str, Check] = {
    **COMMON,
    "channel": _code(set(CHANNELS.values())),
    "evaluated_at": _time,
    "satisfaction": _code({1, 2, 3, 4, 5}),
    "evaluation_kind": _code({1, 2}),
    "is_bad": _code({0, 1}),
    "indicators": _indicators,
    "comment": _text(500),
}
RECTIFICATION: dict[str, Check] = {
    **COMMON,
    "evaluation_record_id": _pattern(RECORD_ID, "关联评价编号"),
    "rectify_state": _code(set(RECTIFY_STATES.values())),
    "opened_at": _time,
    "deadline": _day,
    "closed_at": _optional(_time),
    "on_time": _optional(_code({0, 1})),
}


def validate(record: Any) -> list[tuple[str, str]]:
    """Every field's problem as (field, message); empty when the record is well formed."""
    if not isinstance(record, dict):
        return [("(record)", "应为 JSON 对象")]
    spec = RECTIFICATION if record.get("record_type") == "rectification" else EVALUATION
    problems = [(name, "缺少此字段") for name in spec if name not in record]
    problems += [(name, "不是规定的字段") for name in record if name not in spec]
    for name, check in spec.items():
        if name in record:
            problem = check(record[name])
            if problem is not None:
                problems.append((name, problem))
    if not problems and record["record_type"] == "evaluation":
        bad = 1 if record["satisfaction"] in (4, 5) else 0
        if record["is_bad"] != bad:
            problems.append(("is_bad", "与整体满意度不一致（4、5 为差评）"))
    return problems


def evaluation(hall: str, seq: int, region: str, rec: dict[str, Any]) -> dict[str, Any]:
    """The platform record of one evaluation (a hallcore.sync EvaluationRecord, as stored by the city)."""
    serial = rec.get("serial_no")
    indicators = [
        {"code": INDICATOR_CODES[k], "name": INDICATOR_NAMES[INDICATOR_CODES[k]], "satisfaction": int(v)}
        for k, v in sorted(rec.get("indicators", {}).items())
        if k in INDICATOR_CODES
    ]
    return {
        "record_id": f"{hall}-E{rec['evaluation_id']}",
        "record_type": "evaluation",
        "version": seq,
        "project_no": serial if serial else visit_project_no(hall, int(rec["visit_id"])),
        "item_code": rec.get("item_code"),
        "department": rec.get("department"),
        "region_code": region,
        "hall_code": hall,
        "channel": CHANNELS.get(str(rec.get("channel")), 0),  # 0: an unmapped channel, refused by validate
        "evaluated_at": stamp(datetime.fromisoformat(rec["at"])),
        "satisfaction": int(rec["level_gb"]),
        "evaluation_kind": 2 if rec.get("kind") == "followup" else 1,
        "is_bad": 1 if rec.get("is_bad") else 0,
        "indicators": indicators,
        "comment": _masked(rec.get("comment")),
    }


def rectification(hall: str, seq: int, region: str, rec: dict[str, Any], project_no: str | None) -> dict[str, Any]:
    """The platform record of one rectification change."""
    closed = rec.get("closed_at")
    on_time = rec.get("on_time")
    return {
        "record_id": f"{hall}-R{rec['rectification_id']}",
        "record_type": "rectification",
        "version": seq,
        "project_no": project_no or visit_project_no(hall, int(rec["visit_id"])),
        "item_code": None,
        "department": rec.get("department"),
        "region_code": region,
        "hall_code": hall,
        "evaluation_record_id": f"{hall}-E{rec['evaluation_id']}",
        "rectify_state": RECTIFY_STATES.get(str(rec.get("state")), 0),
        "opened_at": stamp(datetime.fromisoformat(rec["opened_at"])),
        "deadline": str(rec["deadline"]),
        "closed_at": stamp(datetime.fromisoformat(closed)) if closed else None,
        "on_time": None if on_time is None else int(bool(on_time)),
    }


def _masked(text: Any) -> str | None:
    """Free text with any ID or phone number masked (the hall already masks; the platform is checked again)."""
    if not text:
        return None
    masked = ID_NUMBER.sub(lambda m: m.group(0)[:4] + "*" * 10 + m.group(0)[-4:], str(text))
    return PHONE.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], masked)[:500]
