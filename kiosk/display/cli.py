"""`display_command`, which the main CLI mounts as `hallq display --device display-w03` (window display) or
`hallq display --device hall-display-1` (hall display). Only typer is imported with this module: profiles,
bus, voice and Kivy are imported when the command runs, so `--help` is quick."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kiosk.ui.cli import (
    BrokerHostOption,
    BrokerPortOption,
    DeviceOption,
    FullscreenOption,
    HallDirOption,
    ScreenshotOption,
    SecretDirOption,
    SizeOption,
    hall_now,
    state_dir,
)
from kiosk.ui.runner import DeviceRunner

if TYPE_CHECKING:
    from firmware_config.devices import HallDisplayProfile, WindowDisplayProfile
    from kiosk.voice.announcer import Announcer

log = logging.getLogger("hallq.display")


def make_announcer(
    cache_dir: Path, repeat: int, clips_dir: Path | None = None
) -> tuple[Announcer | None, str | None, str]:
    """The voice of a display, or None and why not (a display without speech still shows calls), and what
    the start-up line says about it: which voice, and whether a sound device plays it."""
    from kiosk.voice.announcer import Announcer
    from kiosk.voice.clips import ClipSet
    from kiosk.voice.player import SilentPlayer, detect_player
    from kiosk.voice.tts import RATE, SpeechRenderer, VoiceSettings, VoiceUnavailable

    clips = ClipSet(clips_dir, RATE) if clips_dir is not None else None
    try:
        renderer = SpeechRenderer(cache_dir, VoiceSettings(repeat=repeat), clips=clips)
    except VoiceUnavailable as exc:
        log.error("display: %s", exc)
        return None, str(exc), f"语音不可用：{exc}"
    player = detect_player()
    voice = f"录音片段 {len(clips.clips)} 个（其余用 espeak-ng）" if clips else "espeak-ng"
    if isinstance(player, SilentPlayer):
        player.tell(cache_dir)  # said once, here; the files keep being written
        return Announcer(renderer, player), None, f"语音：{voice}；{player.notice}（{cache_dir}）"
    log.info("display: voice plays through %s", player.name)
    return Announcer(renderer, player), None, f"语音：{voice}，由 {player.name} 播放"


def default_clips_dir(hall_dir: Path | None) -> Path:
    """A hall's recorded clips: voice/ in its folder (kiosk.voice.clips names the files)."""
    from kiosk.settings import DeviceSettings

    return (hall_dir or DeviceSettings().hall_dir) / "voice"


def default_size(profile: WindowDisplayProfile | HallDisplayProfile, fullscreen: bool) -> tuple[int, int]:
    """Full HD on a board; half of it in a window on a desk."""
    from firmware_config.devices import HallDisplayProfile

    portrait = isinstance(profile, HallDisplayProfile) and profile.orientation == "portrait"
    width, height = (1080, 1920) if portrait else (1920, 1080)
    return (width, height) if fullscreen else (width // 2, height // 2)


def display_command(
    device: DeviceOption,
    hall_dir: HallDirOption = None,
    secret_dir: SecretDirOption = None,
    broker_host: BrokerHostOption = None,
    broker_port: BrokerPortOption = None,
    fullscreen: FullscreenOption = None,
    size: SizeOption = None,
    voice: Annotated[bool | None, typer.Option("--voice/--no-voice", help="Default: the profile's voice")] = None,
    repeat: Annotated[int, typer.Option(min=1, max=5, help="Times each call is read")] = 2,
    voice_clips: Annotated[
        Path | None, typer.Option(help="Folder of recorded clips (default: voice/ in the hall folder)")
    ] = None,
    screenshot: ScreenshotOption = None,
) -> None:
    """Run a window display or the hall display: driven only by retained bus state, calls read aloud."""
    from firmware_config.devices import HallDisplayProfile, WindowDisplayProfile
    from kiosk.display.hallinfo import HallInfo
    from kiosk.display.service import DisplayService

    runner = DeviceRunner(
        device, ("window_display", "hall_display"), hall_dir=hall_dir, secret_dir=secret_dir,
        broker_host=broker_host, broker_port=broker_port, fullscreen=fullscreen, size=size, screenshot=screenshot,
    )  # fmt: skip
    setup = runner.setup()
    profile = setup.profile
    assert isinstance(profile, WindowDisplayProfile | HallDisplayProfile)
    if voice is not None:
        profile = profile.model_copy(update={"voice": voice})
    info = (
        HallInfo.from_profile(setup.hall, setup.devices)
        if setup.hall is not None
        else HallInfo.from_config(setup.hall_name, setup.config)
    )
    clips_dir = voice_clips or (default_clips_dir(hall_dir) if setup.hall is not None else None)
    announcer, problem, said = (
        make_announcer(state_dir("display") / "voice", repeat, clips_dir) if profile.voice else (None, None, "语音 关")
    )
    service = DisplayService(
        profile, setup.bus, info, announcer, clock=hall_now(setup.bus.timezone), voice_problem=problem
    )
    ui = runner.open_ui("kiosk.display.app", lambda fs: default_size(profile, fs))
    banner = f"{profile.name}（{device}）：消息代理 {setup.bus.host}:{setup.bus.port}，{said}"
    runner.run(ui.DisplayApp(service), banner)
