"""The hall context every service works in: profile, catalog, calendar, clock and identity key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from firmware_config.hall import HallProfile, ProfileError, QueueGroup, load_hall_profile
from hallcore.calendar import HallCalendar, Holidays
from hallcore.catalog.loader import Catalog, load_catalog
from hallcore.catalog.search import CatalogSearch
from hallcore.clock import Clock
from hallcore.errors import HallError
from hallserver.services.keyring import Keyring


@dataclass
class HallContext:
    """Read-mostly state shared by all requests of one hall server."""

    profile: HallProfile
    catalog: Catalog
    search: CatalogSearch
    calendar: HallCalendar
    clock: Clock
    identity_key: bytes
    keyring: Keyring
    city_key: bytes | None = None  # the city's identity key, when the hall is linked to a city

    @property
    def proof_key(self) -> bytes:
        """The key of codes any hall of the city must verify (a receipt's 查询码): the city's when linked."""
        return self.city_key or self.identity_key

    def now(self) -> datetime:
        """The current instant in the hall's time zone."""
        return self.clock.now().astimezone(self.calendar.zone)

    def today(self) -> date:
        """The hall's local date (tickets are numbered per local day)."""
        return self.now().date()

    def group(self, code: str) -> QueueGroup:
        """A queue group by code, or a not_found error."""
        try:
            return self.profile.group(code)
        except KeyError:
            raise HallError("not_found", f"没有名为“{code}”的队列") from None

    def group_for_entry(self, code: str) -> QueueGroup:
        """The queue group serving a catalog item or bundle, or unknown_item."""
        domain = self.catalog.domain_of.get(code)
        if domain is None:
            raise HallError("unknown_item", f"事项编码 {code} 不在本大厅的事项目录中")
        group = self.profile.group_for_domain(domain)
        if group is None:  # load_context refuses this; kept for a catalog swapped at run time
            raise HallError("unknown_item", f"本大厅暂未安排窗口办理“{self.catalog.domains[domain].name}”事项")
        return group

    def entry_name(self, code: str) -> str:
        """Display name of an item or bundle."""
        entry = self.catalog.items.get(code) or self.catalog.bundles.get(code)
        return entry.name if entry else code


def check_catalog_against_hall(profile: HallProfile, catalog: Catalog) -> None:
    """Every catalog domain needs a queue group, and groups may only name real domains."""
    problems = []
    for code, domain in catalog.domains.items():
        if profile.group_for_domain(code) is None:
            problems.append(f"领域 {code}（{domain.name}）没有任何队列办理：在 hall.yaml 的 groups.domains 中加入它")
    for group in profile.groups:
        for code in group.domains:
            if code not in catalog.domains:
                problems.append(f"队列 {group.code} 引用了事项目录中不存在的领域 {code}")
    if problems:
        raise ProfileError("; ".join(problems))


def load_context(
    hall_dir: Path, holidays_file: Path, clock: Clock, identity_key: bytes, keyring: Keyring
) -> HallContext:
    """Load and cross-check everything a hall needs; raises with file and field named."""
    profile = load_hall_profile(hall_dir / "hall.yaml")
    catalog = load_catalog(hall_dir / "catalog")
    check_catalog_against_hall(profile, catalog)
    calendar = HallCalendar(profile.hours, Holidays.load(holidays_file))
    return HallContext(profile, catalog, CatalogSearch(catalog), calendar, clock, identity_key, keyring)
