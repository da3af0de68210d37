"""The hall's side of 同源发布: fetch what the city published, check it, apply it atomically, report it.

One thread per hall server polls `GET /api/v1/publishing/{kind}/current` with If-None-Match at start-up and
every `poll_s`, and at once when the city's notice arrives over the bridge (`poke`). A new bundle is checked
with the hall's own checker (`hallcore.published.check`, plus the hall's cross-check of catalog domains
against its queue groups), written to a new version folder, made current with one rename, then swapped into
the running server's context. A bundle that fails is refused: the last good version keeps serving and the
floor shows an alert until the city publishes a good one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firmware_config.hall import ProfileError
from hallcore.calendar import HallCalendar
from hallcore.catalog.loader import Catalog
from hallcore.catalog.search import CatalogSearch
from hallcore.published import KIND_LABELS, KINDS, BundleError, check, etag
from hallserver.cityfeed.client import CityApi, CityRefused, CityUnreachable
from hallserver.cityfeed.store import VersionStore
from hallserver.services.context import HallContext, check_catalog_against_hall

log = logging.getLogger("hallq.cityfeed")
POLL_S = 300.0
STORED = "本地保存的版本"  # the label of a refusal at start-up: the copy on disk, not a download


@dataclass
class Refusal:
    """A city version this hall refused, and why (Chinese, for the floor)."""

    label: str
    problems: list[str]
    at: datetime


@dataclass
class KindState:
    """What the hall serves for one kind, and what went wrong last."""

    served: str | None = None  # the city's label (v3) of the version in use; None: the hall's own files
    seen_etag: str | None = None  # the last bundle looked at (applied or refused): sent as If-None-Match
    refusal: Refusal | None = None
    problem: str | None = None  # the city refused us (token, URL): a configuration problem
    last_ok: datetime | None = None
    history: list[str] = field(default_factory=list)


class CityFeed:
    """Keeps one hall's catalog and calendar in step with the city."""

    def __init__(
        self,
        ctx: HallContext,
        api: CityApi,
        store_root: Any,
        on_applied: Callable[[str], None] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.ctx = ctx
        self.api = api
        self.stores = {kind: VersionStore(store_root, kind) for kind in KINDS}
        self.on_applied = on_applied
        self.poll_s = poll_s
        self.state = {kind: KindState() for kind in KINDS}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one fetch at a time (the thread, a notice, a test)
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def restore(self) -> None:
        """Serve the last good city version kept on disk (before the first request; never raises)."""
        for kind, store in self.stores.items():
            try:
                stored = store.current()
                if stored is not None:
                    self._apply(kind, stored.meta, stored.files, install=False)
            except (BundleError, ProfileError, OSError, ValueError, KeyError) as exc:
                log.error("the stored city %s cannot be used (%s); serving the hall's own files", kind, exc)
                self._refuse(kind, STORED, [str(exc)[:200]])

    def start(self) -> None:
        """Poll now and then every poll_s, in the background."""
        self._thread = threading.Thread(target=self._run, name="hallq-cityfeed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (a fetch in progress finishes: its timeout bounds the wait)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.api.timeout_s * 3)

    def poke(self, _topic: str = "", _payload: bytes = b"") -> None:
        """The city's notice arrived: fetch now. The payload is not trusted: the API says what is current."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.poll()
            self._wake.wait(self.poll_s)

    # --- fetching ---

    def poll(self) -> None:
        """Fetch both kinds once (never raises: the hall keeps serving whatever happens)."""
        with self._lock:
            for kind in KINDS:
                try:
                    self._fetch(kind)
                except Exception:  # a bug here must not stop the feed, nor the hall
                    log.exception("city %s fetch failed", kind)

    def _fetch(self, kind: str) -> None:
        state = self.state[kind]
        try:
            answer = self.api.get(f"/api/v1/publishing/{kind}/current", etag=_quoted(state.seen_etag))
        except CityUnreachable as exc:
            log.warning("city API unreachable for the %s: %s (keeping %s)", kind, exc, state.served or "本地版本")
            return
        except CityRefused as exc:
            if exc.status == 404:  # nothing published yet for this kind: the hall's own files stay
                state.problem, state.last_ok = None, self.ctx.now()
                return
            state.problem = f"市级平台拒绝了本大厅的请求（{exc}）"
            log.error("city API refused the %s request: %s", kind, exc)
            return
        state.problem = None
        state.last_ok = self.ctx.now()
        if answer.status == 304 or answer.body is None:
            return
        self._receive(kind, answer.body)

    def _receive(self, kind: str, bundle: Any) -> None:
        state = self.state[kind]
        label = str(bundle.get("label") or f"v{bundle.get('version')}") if isinstance(bundle, dict) else "?"
        try:
            meta, files = _unpack(kind, bundle)
        except BundleError as exc:
            self._refuse(kind, label, exc.problems)
            return
        state.seen_etag = meta["etag"]
        if state.served == meta["label"]:
            return
        try:
            self._apply(kind, meta, files, install=True)
        except (BundleError, ProfileError) as exc:
            problems = exc.problems if isinstance(exc, BundleError) else [str(exc)]
            self._refuse(kind, meta["label"], problems)
        except OSError as exc:  # disk full, permissions: the old version stays current
            self._refuse(kind, meta["label"], [f"无法保存到本地：{exc}"])

    # --- applying ---

    def _apply(self, kind: str, meta: dict[str, Any], files: dict[str, str], install: bool) -> None:
        """Check against this hall, keep on disk (when new), swap into the running context."""
        loaded = check(kind, files)
        if isinstance(loaded, Catalog):
            check_catalog_against_hall(self.ctx.profile, loaded)
            search = CatalogSearch(loaded)
        else:
            year = self.ctx.today().year
            if year not in loaded.years:
                raise BundleError(kind, [f"未包含本年度（{year}）的节假日安排"])
            calendar = HallCalendar(self.ctx.profile.hours, loaded)
        if install:
            self.stores[kind].install(meta, files)
        if isinstance(loaded, Catalog):
            self.ctx.search = search  # search first: a request never searches an older catalog than it shows
            self.ctx.catalog = loaded
        else:
            self.ctx.calendar = calendar
        state = self.state[kind]
        state.served, state.seen_etag, state.refusal = meta["label"], meta["etag"], None
        state.history.append(meta["label"])
        log.info("now serving the city's %s %s (%s)", kind, meta["label"], meta.get("summary", ""))
        if self.on_applied is not None:
            try:
                self.on_applied(kind)
            except Exception:
                log.exception("announcing the new %s failed", kind)

    def _refuse(self, kind: str, label: str, problems: list[str]) -> None:
        state = self.state[kind]
        state.refusal = Refusal(label, problems[:10], self.ctx.now())
        keeping = state.served or "本大厅原有版本"
        log.error("refused the city's %s %s, keeping %s: %s", kind, label, keeping, "; ".join(problems[:3]))
        if self.on_applied is not None:  # the floor's alerts changed
            try:
                self.on_applied("alert")
            except Exception:
                log.exception("announcing the refusal failed")

    # --- what the hall reports ---

    def served(self, kind: str) -> str | None:
        """The city's label of the version in use, None when the hall serves its own files."""
        return self.state[kind].served


def _quoted(tag: str | None) -> str | None:
    return f'"{tag}"' if tag else None


def _unpack(kind: str, bundle: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Meta and files of a downloaded bundle; its etag must match its files (nothing altered on the way)."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("files"), dict):
        raise BundleError(kind, ["市级返回的内容格式不正确"])
    files = bundle["files"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise BundleError(kind, ["市级返回的文件格式不正确"])
    version = bundle.get("version")
    if bundle.get("kind") != kind or not isinstance(version, int) or version < 1:
        raise BundleError(kind, ["市级返回的版本信息不正确"])
    if bundle.get("etag") != etag(kind, files):
        raise BundleError(kind, ["内容与其校验值不符（传输中被改动）"])
    meta = {k: v for k, v in bundle.items() if k != "files"}
    meta["label"] = f"v{version}"
    return meta, files


def refusal_title(kind: str, refusal: Refusal) -> str:
    """The floor alert's title for a refused version."""
    if refusal.label == STORED:
        return f"本地保存的市级{KIND_LABELS[kind]}无法使用"
    return f"市级下发的{KIND_LABELS[kind]}{refusal.label}未通过校验"
