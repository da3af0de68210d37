"""Hall profile schema: identity, opening hours, queue groups, windows and staff of one hall."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from datetime import time
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

HALLS_DIR = Path(__file__).parent / "halls"
PROFILE_VERSION = 1


class ProfileError(ValueError):
    """A hall profile that cannot be used, with the file and field named."""


class Strict(BaseModel):
    """Base for profile models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class HallLevel(StrEnum):
    """Administrative level of the hall."""

    province = "省级"
    city = "市级"
    district = "区县级"
    street = "街道（乡镇）"
    community = "社区（村）"


class WindowKind(StrEnum):
    """Window kinds a hall sets up (004 §12)."""

    universal = "无差别综合"
    domain = "分领域综合"
    dedicated = "专业"
    consulting = "咨询"
    assisted = "帮办代办"
    complaint = "办不成事反映"
    green = "绿色通道"


class StaffRole(StrEnum):
    """AB角: A is the regular holder, B the backup (000 §26)."""

    a = "A"
    b = "B"


class Session(Strict):
    """One continuous opening period of a day."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 10:00 as the integer 600; refuse rather than misread it.
        if isinstance(value, int):
            raise ValueError("时间须加引号书写，如 '10:00'")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Session:
        if self.end <= self.start:
            raise ValueError(f"结束时间 {self.end} 必须晚于开始时间 {self.start}")
        return self


class OpeningHours(Strict):
    """Opening hours; a single weekday session means 午间不间断 (no lunch closing)."""

    timezone: str = "Asia/Shanghai"
    weekday: tuple[Session, ...] = Field(min_length=1, description="Mon–Fri and adjusted workdays (调休)")
    saturday: tuple[Session, ...] = Field(default=(), description="周末不休息: Saturday service")
    sunday: tuple[Session, ...] = ()
    appointment_flex_minutes: int = Field(
        default=60, ge=0, le=180, description="早晚弹性办: appointments before opening and after closing"
    )
    holiday_service: bool = Field(default=False, description="Open on public holidays with Saturday hours")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 {name}") from exc
        return name

    @field_validator("weekday", "saturday", "sunday")
    @classmethod
    def _no_overlap(cls, sessions: tuple[Session, ...]) -> tuple[Session, ...]:
        for earlier, later in pairwise(sessions):
            if later.start < earlier.end:
                raise ValueError("同一天的办公时段不得重叠，且须按时间先后排列")
        return sessions

    @property
    def zone(self) -> ZoneInfo:
        """The hall's time zone."""
        return ZoneInfo(self.timezone)


class QueueGroup(Strict):
    """A queue with its own ticket prefix, serving a set of catalog domains."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")
    name: str = Field(min_length=2, max_length=20)
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$", description="Ticket prefix, e.g. A → A012")
    domains: tuple[str, ...] = Field(default=(), description="Catalog domain codes served by this group")
    anonymous_allowed: bool = Field(default=False, description="Tickets without identity (consultation)")
    default_service_minutes: float = Field(default=10, gt=0, le=240, description="Until real data exists")
    wait_alert_minutes: int = Field(default=30, ge=1, le=600)


class AccessRole(StrEnum):
    """What a person may do in the staff and manager console."""

    staff = "staff"  # window staff: their own windows only
    chief = "chief"  # 首席代表: their department's windows and rectifications
    manager = "manager"  # hall manager: everything but raters' identities
    admin = "admin"  # accounts and configuration


class Staff(Strict):
    """A staff member; display name, duties and contact are shown on the window display."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{1,30}$")
    role: AccessRole = AccessRole.staff
    name: str = Field(min_length=2, max_length=20)
    display_name: str = Field(min_length=1, max_length=20)
    duties: str = Field(min_length=2, max_length=60)
    contact: str = Field(pattern=r"^[0-9\-]{5,20}$")
    department: str = Field(min_length=2)


class WindowStaff(Strict):
    """The A and B holders of a window."""

    a: str
    b: str | None = None

    @model_validator(mode="after")
    def _different(self) -> WindowStaff:
        if self.a == self.b:
            raise ValueError("A角与B角不能是同一人")
        return self


class Window(Strict):
    """A service window and the groups it serves at start of day."""

    id: str = Field(pattern=r"^w[0-9]{2,3}$")
    name: str = Field(min_length=2, max_length=20, description="Shown and spoken, e.g. 3号窗口")
    number: int = Field(ge=1, le=999, description="Spoken window number")
    kind: WindowKind
    groups: tuple[str, ...] = Field(min_length=1)
    staff: WindowStaff
    floor: str = "1楼"


class TicketRules(Strict):
    """Real-name ticketing and life-cycle parameters (实名取号)."""

    one_waiting_per_group: bool = True
    daily_cap_per_person: int = Field(default=5, ge=1, le=50)
    no_show_rejoin_minutes: int = Field(default=30, ge=0, le=240)
    rejoin_after_positions: int = Field(default=3, ge=0, le=50, description="过号顺延: places behind")
    appointment_prefix: str = Field(default="Y", pattern=r"^[A-Z]{1,2}$")
    green_prefix: str = Field(default="L", pattern=r"^[A-Z]{1,2}$")
    green_staff_check: bool = Field(
        default=True, description="绿色通道: staff confirm a reason the ID card cannot prove (the kiosk calls them)"
    )
    appointment_early_minutes: int = Field(default=30, ge=0, le=240)
    appointment_late_minutes: int = Field(default=15, ge=0, le=240)


class AppointmentRules(Strict):
    """Booking (预约) rules; the check-in window itself is in TicketRules (early/late minutes)."""

    slot_minutes: int = Field(default=30, ge=10, le=240)
    capacity_per_slot: int = Field(default=4, ge=1, le=200, description="Bookings per item per slot")
    days_ahead: int = Field(default=7, ge=1, le=60, description="How far ahead citizens may book")
    late_rule: Literal["walk_in", "refuse"] = Field(
        default="walk_in", description="Late check-in: queue as a walk-in, or refuse and ask to rebook"
    )
    no_show_limit: int = Field(default=3, ge=1, le=20, description="No-shows that suspend booking")
    no_show_window_days: int = Field(default=90, ge=7, le=365)
    suspension_days: int = Field(default=30, ge=1, le=365)


class LapseOutcome(StrEnum):
    """What happens to an application when its 补正/容缺 deadline passes with materials still missing."""

    withdrawn = "视为撤回"  # the application is deemed withdrawn
    denied = "不予批准"  # a written denial with the lapse as its reason
    suspended = "中止办理"  # the case stops (and its clock with it) until the materials come


class CaseRules(Strict):
    """Deadlines for supplements and for rectifying bad reviews (差评整改)."""

    supplement_days: int = Field(default=5, ge=1, le=60, description="补正: working days to bring what is missing")
    on_deadline_lapse: LapseOutcome = Field(
        default=LapseOutcome.withdrawn, description="Hall-wide default when a 补正/容缺 deadline passes"
    )
    remind_days: int = Field(default=1, ge=0, le=10, description="Working days before a deadline to remind")
    warn_days: int = Field(default=2, ge=0, le=30, description="Working days before a promised date to warn")
    rectification_days: int = Field(default=7, ge=1, le=60, description="Beijing rules: 7 days (003 §38)")
    rectification_working_days: bool = Field(default=False, description="Count working days instead of days")


class OverflowRule(Strict):
    """A manager-approved overflow (004 §14): these windows also call the group's tickets, but only those
    that have waited at least `after_minutes` (a threshold rule: help arrives before the cap, not always)."""

    group: str = Field(description="Queue group code whose tickets may overflow")
    windows: tuple[str, ...] = Field(min_length=1, description="Windows that may help with that group")
    after_minutes: int = Field(default=30, ge=0, le=600, description="Minutes a ticket must have waited first")


class AllocationRules(Strict):
    """Parameters of the window allocation policy."""

    policy: str = Field(default="fair", pattern="^(fair|balanced|fifo)$", description="fair, balanced or fifo")
    starvation_minutes: int = Field(default=60, ge=5, le=600)
    appointment_lead_minutes: int = Field(
        default=5, ge=0, le=30, description="balanced: how long before its slot a checked-in booking takes priority"
    )
    service_time_sample: int = Field(default=20, ge=1, le=500, description="Recent visits per estimate")
    cap_horizon_minutes: int = Field(
        default=5, ge=0, le=60, description="fair: a walk-in this close to the starvation cap is called by deadline"
    )
    appointment_horizon_minutes: int = Field(
        default=15, ge=0, le=60, description="fair: a checked-in booking this close to its slot is called by deadline"
    )
    overflow: tuple[OverflowRule, ...] = Field(default=(), description="Manager-approved overflow rules")


class SiteKind(StrEnum):
    """A staffed hall, or a 24-hour self-service point (002 §43): kiosks and printers, no windows."""

    hall = "hall"
    self_service_point = "self_service_point"


class Hall(Strict):
    """Identity of the hall."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_\-]{1,30}$")
    code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Z]{4}$",
        description="Hall code assigned by the city's provisioning: in every serial number and city record",
    )
    site_kind: SiteKind = Field(default=SiteKind.hall, description="hall, or self_service_point (no windows)")
    name: str = Field(min_length=2, max_length=40)
    level: HallLevel
    address: str = Field(min_length=2)
    phone: str = Field(pattern=r"^[0-9\-]{5,20}$")
    region_code: str = Field(pattern=r"^[0-9]{6}$", description="GB/T 2260 administrative division code")


class CityLink(Strict):
    """The hall's link to its city (PROTOCOL.md "The city link"): where the city broker is and how the
    bridge logs in. Secrets are not here: the bridge password and the city identity key are files the
    city's provisioning puts under the secret directory (`city/bridge.password`, `city/identity.key`)."""

    city: str = Field(pattern=r"^[a-z][a-z0-9_\-]{1,30}$", description="City id: topics city/{city}/…")
    broker_host: str = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:]+$")
    broker_port: int = Field(default=8883, ge=1, le=65535)
    other_brokers: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9.\-]+:[0-9]{1,5}$")]] = Field(
        default_factory=list,
        max_length=8,
        description="Other nodes of a clustered city broker (host:port): the bridge moves to one when its node fails",
    )
    tls: bool = Field(default=True, description="TLS to the city broker (off only on loopback test rigs)")
    ca_file: Path | None = Field(default=None, description="CA of the city broker; relative to the hall folder")
    cert_file: Path | None = Field(default=None, description="Client certificate, when the city asks for one")
    key_file: Path | None = None
    bridge_username: str = Field(pattern=r"^[A-Za-z0-9_\-.]{2,64}$", description="The bridge's city account")
    bridge_clientid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_\-.]{2,64}$")
    api_url: str | None = Field(default=None, pattern=r"^https?://", description="The city's HTTP API")
    resend_after_s: float = Field(default=60, ge=1, le=3600, description="Resend unacknowledged records after")
    max_rate: int = Field(default=500, ge=1, le=100_000, description="Records per second the hall publishes")
    max_in_flight: int = Field(
        default=500, ge=1, le=900, description="Records sent and not yet acknowledged (the bridge queues ≤ 1000)"
    )

    @model_validator(mode="after")
    def _tls_files(self) -> CityLink:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("客户端证书与私钥须同时给出")
        if not self.tls and (self.ca_file or self.cert_file):
            raise ValueError("未启用 TLS 时不应配置证书文件")
        return self

    @property
    def clientid(self) -> str:
        """The bridge's client id on the city broker."""
        return self.bridge_clientid or self.bridge_username


# What the city's provisioning puts in the hall's secret directory (never in hall.yaml).
CITY_SECRETS = "city"
BRIDGE_PASSWORD_FILE = "bridge.password"  # the bridge's password on the city broker
CITY_IDENTITY_KEY_FILE = "identity.key"  # hex, 32 bytes or more: person hashes in city records


def city_secret(secret_dir: Path, name: str) -> str | None:
    """A secret the city provisioned (stripped text), or None when it is not there."""
    path = secret_dir / CITY_SECRETS / name
    try:
        return path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def city_identity_key(secret_dir: Path) -> bytes | None:
    """The city's identity key, or None when the city has not provisioned one."""
    text = city_secret(secret_dir, CITY_IDENTITY_KEY_FILE)
    if text is None:
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ProfileError(f"{secret_dir / CITY_SECRETS / CITY_IDENTITY_KEY_FILE}: 市级身份密钥应为十六进制") from None
    if len(key) < 32:
        raise ProfileError(f"{secret_dir / CITY_SECRETS / CITY_IDENTITY_KEY_FILE}: 市级身份密钥不足32字节")
    return key


class HallProfile(Strict):
    """A whole hall: the single source of truth for windows, groups, staff and hours."""

    version: int = Field(default=PROFILE_VERSION, ge=1, le=PROFILE_VERSION)
    hall: Hall
    hours: OpeningHours
    groups: tuple[QueueGroup, ...] = Field(min_length=1)
    staff: tuple[Staff, ...] = Field(min_length=1)
    windows: tuple[Window, ...] = Field(default=(), description="At least one, except at a self-service point")
    tickets: TicketRules = TicketRules()
    appointments: AppointmentRules = AppointmentRules()
    cases: CaseRules = CaseRules()
    allocation: AllocationRules = AllocationRules()
    city: CityLink | None = Field(default=None, description="The city link; none: the hall runs on its own")

    @model_validator(mode="after")
    def _references(self) -> HallProfile:
        point = self.hall.site_kind == SiteKind.self_service_point
        if not self.windows and not point:
            raise ValueError("大厅至少需要一个窗口（无窗口的站点请设 site_kind: self_service_point）")
        if point and self.windows:
            raise ValueError("24小时自助服务点不设窗口")
        if self.city is not None and self.hall.code is None:
            raise ValueError("接入市级平台（city）须先由市级分配大厅编码 hall.code")
        _unique("队列代码", [g.code for g in self.groups])
        _unique(
            "号码前缀",
            [g.prefix for g in self.groups] + [self.tickets.appointment_prefix, self.tickets.green_prefix],
        )
        _unique("窗口编号", [w.id for w in self.windows])
        _unique("窗口号", [w.number for w in self.windows])
        _unique("工作人员编号", [s.id for s in self.staff])
        domains = [d for g in self.groups for d in g.domains]
        _unique("领域（一个领域只能属于一个队列）", domains)
        group_codes = {g.code for g in self.groups}
        staff_ids = {s.id for s in self.staff}
        for w in self.windows:
            unknown = set(w.groups) - group_codes
            if unknown:
                raise ValueError(f"窗口 {w.id} 引用了不存在的队列 {sorted(unknown)}")
            for holder in (w.staff.a, w.staff.b):
                if holder is not None and holder not in staff_ids:
                    raise ValueError(f"窗口 {w.id} 引用了不存在的工作人员 {holder}")
        window_ids = {w.id for w in self.windows}
        for rule in self.allocation.overflow:
            if rule.group not in group_codes:
                raise ValueError(f"分流规则引用了不存在的队列 {rule.group}")
            unknown_windows = set(rule.windows) - window_ids
            if unknown_windows:
                raise ValueError(f"分流规则引用了不存在的窗口 {sorted(unknown_windows)}")
        served = {g for w in self.windows for g in w.groups}
        orphans = group_codes - served
        if orphans and not point:
            raise ValueError(f"队列 {sorted(orphans)} 没有任何窗口办理，取号后将无人叫号")
        return self

    def group(self, code: str) -> QueueGroup:
        """The group with this code; KeyError if unknown."""
        for g in self.groups:
            if g.code == code:
                return g
        raise KeyError(code)

    def group_for_domain(self, domain: str) -> QueueGroup | None:
        """The group that serves a catalog domain, if any."""
        return next((g for g in self.groups if domain in g.domains), None)

    def staff_member(self, staff_id: str) -> Staff:
        """The staff member with this id; KeyError if unknown."""
        for s in self.staff:
            if s.id == staff_id:
                return s
        raise KeyError(staff_id)


def _unique(what: str, values: Sequence[Hashable]) -> None:
    dupes = sorted(str(v) for v, n in Counter(values).items() if n > 1)
    if dupes:
        raise ValueError(f"{what}重复：{dupes}")


def load_hall_profile(path: Path) -> HallProfile:
    """Read and validate hall.yaml; errors name the file and the failing field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"{path}: 无法读取大厅配置：{exc}") from exc
    try:
        return HallProfile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(f"{path}: {format_errors(exc)}") from exc


def format_errors(exc: ValidationError) -> str:
    """One line per error: dotted field path and message."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{loc}: {err['msg']}")
    return "; ".join(lines)
