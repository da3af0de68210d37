"""Demo only (simulated reader): a small "演示：刷身份证" control listing the test identities, so someone at
`make run` can swipe a card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.uix.button import Button
from kivy.uix.popup import Popup

from kiosk.terminal.screens.parts import ACTION, DANGER, Ctx, button, column
from kiosk.ui import theme
from kiosk.ui.fonts import FONT_NAME

DEMO_COLOUR = theme.rgba("#3E4A61")


def demo_button(identities: list[tuple[str, str]], insert: Callable[[str], None], remove: Callable[[], None]) -> Button:
    """The unobtrusive footer button opening the list of test cards."""
    trigger = Button(
        text="演示：刷身份证",
        font_name=FONT_NAME,
        background_normal="",
        background_color=DEMO_COLOUR,
        color=theme.MUTED,
        size_hint_x=0.2,
        halign="center",
    )
    trigger.px = 22
    trigger.bind(on_release=lambda *_: open_cards(identities, insert, remove))
    return trigger


def open_cards(identities: list[tuple[str, str]], insert: Callable[[str], None], remove: Callable[[], None]) -> Popup:
    """The list: tap one to put that card on the simulated reader."""
    popup = Popup(title="演示：选择一张测试身份证", title_font=FONT_NAME, title_size=28, size_hint=(0.7, 0.7))
    ctx: Any = Ctx.__new__(Ctx)
    object.__setattr__(ctx, "elderly", False)

    def choose(key: str | None) -> Callable[[Any], None]:
        def act(*_: Any) -> None:
            popup.dismiss()
            if key is None:
                remove()
            else:  # lift any card first, as a citizen would, so the watcher sees a fresh card
                remove()
                Clock.schedule_once(lambda _dt: insert(key), 1.2)

        return act

    buttons = [button(ctx, label, choose(key), ACTION, px=30) for key, label in identities]
    buttons.append(button(ctx, "取走卡片", choose(None), DANGER, px=30))
    popup.content = column(*buttons, spacing=8)
    popup.open()
    return popup
