"""Voice guidance (语音引导) in 大字版: each step of the kiosk is read aloud once, offline, through the hall's
own TTS (kiosk.voice: espeak-ng, no network). What is read never holds personal data: no name, no ID number,
only the step, the choice to make and a ticket or booking number the citizen needs to hear. No Kivy here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hallcore.announce import spoken_ticket

log = logging.getLogger("hallq.kiosk")
CALL_STAFF = "需要帮助请点呼叫工作人员。"
# What each screen says when it opens (the ticket and booking screens add their number).
PROMPTS: dict[str, str] = {
    "home": "您好，请点击屏幕选择要办理的业务。" + CALL_STAFF,
    "identity": "请将身份证放在屏幕下方的读卡区，听到嘀声后即可取回。",
    "green": "绿色通道。请选择您的情况，工作人员会优先为您办理。",
    "green_wait": "已通知工作人员，请在原地稍候，工作人员核实后为您取号。",
    "domains": "请选择要办理的业务类别。",
    "items": "请选择要办理的事项。",
    "search": "请用屏幕下方的字母输入事项名称的拼音首字母。",
    "confirm": "请核对办理事项，并确认已带齐所需材料，然后点确认取号。",
    "ticket": "取号成功。",
    "slots": "请选择预约日期和时段。",
    "booked": "预约成功。",
    "guide": "这是办事指南，可以打印材料清单，也可以直接取号办理。",
    "progress": "请刷身份证，或输入受理凭证上的办件流水号。",
    "progress_result": "查询结果已显示在屏幕上。",
    "evaluation": "请刷身份证，或输入今天的排队号码。",
    "visits": "请选择要评价的办事记录。",
    "rate": "您对本次服务满意吗？请点击屏幕上的选项。",
    "thanks": "评价已提交，谢谢。",
    "assist": "请在原地稍候。",
}


def prompt_for(state: Any) -> str | None:
    """What to say when `state`'s screen opens (None: nothing new to say)."""
    base = PROMPTS.get(state.screen)
    if base is None:
        return None
    data = state.result or {}
    if state.screen == "ticket" and data.get("ticket"):
        return f"{base}您的号码是{spoken_ticket(str(data['ticket']))}，请留意叫号。"
    if state.screen == "booked" and data.get("code"):
        return f"{base}您的预约码是{'，'.join(str(data['code']))}，请按时来大厅签到。"
    if state.screen == "assist" and data.get("after_hours"):
        return "现在是下班时间，请拨打屏幕上的电话咨询。"
    if state.error:
        return None  # the error is on screen; the step's prompt was read when it opened
    return base


class VoiceGuide:
    """Reads each new step in 大字版, one after another on the announcer's thread (never on the UI thread)."""

    def __init__(self, announcer_factory: Callable[[], Any]) -> None:
        self._factory = announcer_factory
        self._announcer: Any = None
        self._failed = False
        self._last: tuple[str, str] | None = None
        self.said: list[str] = []  # what was queued, in order (the screen shows the same)

    @classmethod
    def offline(cls, cache_dir: Path, player: Any = None) -> VoiceGuide:
        """Through espeak-ng into cache_dir, played on the machine's audio output (or `player`)."""

        def make() -> Any:
            from kiosk.voice.announcer import Announcer
            from kiosk.voice.player import detect_player
            from kiosk.voice.tts import SpeechRenderer, VoiceSettings

            renderer = SpeechRenderer(cache_dir, VoiceSettings(repeat=1, chime=False, speed_wpm=130))
            announcer = Announcer(renderer, player or detect_player(), repeat=1, max_wait_s=15.0)
            announcer.start()
            return announcer

        return cls(make)

    def follow(self, state: Any, elderly: bool) -> None:
        """A new state: say its step if it is one we have not just said."""
        if not elderly:
            self._last = None
            return
        text = prompt_for(state)
        if text is None or (state.screen, text) == self._last:
            return
        self._last = (state.screen, text)
        self.say(text, f"{state.screen}:{state.version}")

    def say(self, text: str, key: str) -> None:
        """Queue one prompt (rendering and playing happen on the announcer's thread)."""
        if self._failed:
            return
        if self._announcer is None:
            try:
                self._announcer = self._factory()
            except Exception as exc:  # no espeak-ng: the screen still says everything
                self._failed = True
                log.error("kiosk: voice guidance unavailable: %s", exc)
                return
        self.said.append(text)
        self._announcer.announce(text, key)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until everything queued was read (tests)."""
        return self._announcer is None or bool(self._announcer.wait_idle(timeout))

    @property
    def history(self) -> list[Any]:
        """The announcer's finished announcements."""
        return list(self._announcer.history) if self._announcer is not None else []

    def close(self) -> None:
        """Stop the announcer thread."""
        if self._announcer is not None:
            self._announcer.stop()
            self._announcer = None
