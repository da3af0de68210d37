"""Pydantic schema of a service catalog file: domains, items (办事指南), materials and 一件事 bundles."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from firmware_config.hall import LapseOutcome, Strict

__all__ = ["LapseOutcome"]  # re-exported: the catalog names it per item, hall.yaml holds the default

CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,63}$"

# Vague catch-all materials are banned (Luoyang 002 §17): every material must be named.
VAGUE_MATERIAL_PATTERNS = (
    "其他材料",
    "其它材料",
    "有关材料",
    "相关材料",
    "其他相关",
    "其它相关",
    "其他证明",
    "其他文件",
    "等材料",
    "要求的其他",
    "规定的其他",
    "认为需要",
)


class ItemType(StrEnum):
    """Item types of the catalog (002 §6)."""

    licensing = "行政许可"
    confirmation = "行政确认"
    adjudication = "行政裁决"
    benefit = "行政给付"
    award = "行政奖励"
    filing = "行政备案"
    other_power = "其他行政权力"
    public_service = "公共服务"


class ServiceObject(StrEnum):
    """Who may apply."""

    person = "自然人"
    legal_person = "法人"
    other_org = "非法人组织"


class MaterialKind(StrEnum):
    """Form in which a material is handed in (003 §7)."""

    original = "原件"
    copy = "复印件"
    original_and_copy = "原件和复印件"
    electronic = "电子"


class HandlingForm(StrEnum):
    """Where an item can be handled."""

    window = "窗口"
    online = "网上"
    self_service = "自助"
    mobile = "掌上"


class Delivery(StrEnum):
    """How the result reaches the applicant (003 §18)."""

    window = "窗口领取"
    post = "邮寄"
    self_pickup = "自助领取"
    electronic = "电子送达"


class Tongban(StrEnum):
    """Where the item can be handled (通办 range)."""

    none = "不通办"
    city = "全市通办"
    province = "省内通办"
    cross_province = "跨省通办"
    nationwide = "全国通办"


class FormRef(Strict):
    """Blank form and filled sample for a material that is a form."""

    blank: str = Field(min_length=1, description="Name of the blank form (文书样表)")
    sample: str = Field(min_length=1, description="Name of the filled sample (示范文本)")


class Material(Strict):
    """One required or optional material of a guide."""

    name: str = Field(min_length=2, max_length=120)
    kind: MaterialKind
    copies: int = Field(default=1, ge=0, le=20, description="0 when only shown for inspection (核验)")
    source: str = Field(min_length=2, description="Where the applicant gets it (申请人自备, 医院出具 ...)")
    required: bool = True
    condition: str | None = Field(default=None, description="When it is needed, if not always (如委托办理)")
    form: FormRef | None = None
    data_shared: bool = Field(default=False, description="Obtainable by data sharing; must not be demanded")
    rongque: bool = Field(default=False, description="May be missing at acceptance (容缺)")
    note: str | None = None

    @field_validator("name")
    @classmethod
    def _not_vague(cls, name: str) -> str:
        for pattern in VAGUE_MATERIAL_PATTERNS:
            if pattern in name:
                raise ValueError(f"材料名称“{name}”含模糊表述“{pattern}”，须逐项列明具体材料")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Material:
        if self.data_shared and self.required:
            raise ValueError(f"材料“{self.name}”可通过数据共享获取，不得要求申请人提交（required 应为 false）")
        if self.rongque and not self.required:
            raise ValueError(f"材料“{self.name}”并非必需，不能标记为容缺")
        return self


class TimeLimit(Strict):
    """Statutory and promised limits in working days; 0 promised days means 当场办结."""

    statutory_days: int = Field(ge=0, le=365)
    promised_days: int = Field(ge=0, le=365)

    @model_validator(mode="after")
    def _promise_within_law(self) -> TimeLimit:
        if self.statutory_days and self.promised_days > self.statutory_days:
            raise ValueError("承诺时限不得超过法定时限")
        return self

    @property
    def on_the_spot(self) -> bool:
        """True when the item is completed at the window (即办件)."""
        return self.promised_days == 0


class Fee(Strict):
    """Fee standard and its legal basis."""

    charged: bool
    standard: str = Field(min_length=2, description="不收费 or the amount and unit")
    basis: str | None = None

    @model_validator(mode="after")
    def _basis_when_charged(self) -> Fee:
        if self.charged and not self.basis:
            raise ValueError("收费事项必须写明收费依据")
        return self


class Result(Strict):
    """The document or decision the applicant gets."""

    name: str = Field(min_length=2)
    sample: str | None = Field(default=None, description="Name of the result sample (结果样本)")


class Step(Strict):
    """One step of the process with its own limit."""

    name: str = Field(min_length=2)
    limit_days: int = Field(ge=0, le=365, description="Working days; 0 = same day")
    note: str | None = None


class RongqueRule(Strict):
    """容缺受理: accept with some materials missing, to be supplied by a deadline."""

    deadline_days: int = Field(ge=1, le=60, description="Working days to supply the missing materials")
    note: str | None = None


class Commitment(Strict):
    """告知承诺制 (002 §28): the applicant's written commitment replaces some proof and the department approves
    directly; the guide must say what breaking the commitment costs, and when it is checked."""

    liability: str = Field(min_length=4, description="违反承诺应当承担的法律责任")
    verify_days: int = Field(ge=1, le=365, description="Working days within which the commitment is checked (核查)")
    scope: str | None = Field(default=None, description="适用范围, when narrower than the whole item")


class Appointment(Strict):
    """Whether and how far ahead an item can be booked."""

    supported: bool
    days_ahead: int = Field(default=7, ge=0, le=60)


class Location(Strict):
    """Where in the hall the item is handled."""

    floor: str = Field(min_length=1)
    zone: str = Field(min_length=1)
    windows: str = Field(min_length=1, description="Window range as shown to citizens, e.g. 5—8号窗口")


class Item(Strict):
    """A catalogued service item with its complete guide (003 §6)."""

    code: str = Field(pattern=CODE_PATTERN, description="Implementation code (实施编码), up to 64 chars")
    basic_code: str = Field(pattern=CODE_PATTERN, description="Basic code (基本编码)")
    name: str = Field(min_length=4, max_length=100)
    keywords: tuple[str, ...] = Field(default=(), description="Everyday words citizens search with")
    type: ItemType
    legal_basis: tuple[str, ...] = Field(min_length=1)
    department: str = Field(min_length=2)
    conditions: tuple[str, ...] = Field(min_length=1, description="Acceptance conditions (受理条件)")
    service_object: tuple[ServiceObject, ...] = Field(min_length=1)
    time_limit: TimeLimit
    result: Result
    fee: Fee
    materials: tuple[Material, ...] = Field(min_length=1)
    rongque: RongqueRule | None = None
    steps: tuple[Step, ...] = Field(min_length=1)
    handling_forms: tuple[HandlingForm, ...] = Field(min_length=1)
    review_standard: str = Field(min_length=4, description="审查标准")
    tongban: Tongban
    appointment: Appointment
    online_payment: bool
    delivery: tuple[Delivery, ...] = Field(min_length=1)
    location: Location
    hours: str | None = Field(default=None, description="Only when different from the hall's hours")
    phone: str = Field(pattern=r"^[0-9\-]{5,20}$", description="Consultation phone")
    complaint: str = Field(default="12345", min_length=3, description="Complaint channel")
    on_deadline_lapse: LapseOutcome | None = Field(
        default=None,
        description="When a 补正/容缺 deadline passes: 视为撤回/不予批准/中止办理 (None: the hall's default)",
    )
    gaozhi_chengnuo: Commitment | None = Field(default=None, description="告知承诺制 applies (002 §28)")

    @model_validator(mode="after")
    def _commitment_needs_review(self) -> Item:
        if self.gaozhi_chengnuo is not None and self.time_limit.on_the_spot:
            raise ValueError("告知承诺制事项须为承诺件（承诺时限大于0）：即办件当场办结，无需承诺")
        return self

    @model_validator(mode="after")
    def _rongque_consistent(self) -> Item:
        rongque_materials = [m.name for m in self.materials if m.rongque]
        if rongque_materials and self.rongque is None:
            raise ValueError(f"材料 {rongque_materials} 标记为容缺，但事项未设置容缺受理规则（rongque）")
        if self.rongque is not None and not rongque_materials:
            raise ValueError("设置了容缺受理规则，但没有任何材料标记为容缺")
        names = [m.name for m in self.materials]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"材料重复：{sorted(duplicates)}")
        if not any(m.required for m in self.materials):
            raise ValueError("至少须有一项必需材料")
        return self


class Bundle(Strict):
    """一件事: several items handled as one request with one merged material list (002 §30)."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=4, max_length=100)
    keywords: tuple[str, ...] = ()
    description: str = Field(min_length=4)
    items: tuple[str, ...] = Field(min_length=2, description="Codes of the items it packages")
    materials: tuple[Material, ...] = Field(min_length=1)
    promised_days: int = Field(ge=0, le=365)
    department: str = Field(min_length=2, description="Lead department")
    location: Location
    phone: str = Field(pattern=r"^[0-9\-]{5,20}$")


class Domain(Strict):
    """A service domain (领域): the unit that queue groups and windows are allocated by."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    name: str = Field(min_length=2, max_length=30)


class CatalogFile(Strict):
    """One catalog data file: a domain with its items, and optionally 一件事 bundles."""

    domain: Domain
    items: tuple[Item, ...] = ()
    bundles: tuple[Bundle, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> CatalogFile:
        if not self.items and not self.bundles:
            raise ValueError("目录文件中没有任何事项或一件事")
        return self
