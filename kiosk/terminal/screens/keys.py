"""On-screen keyboards (a kiosk has no system IME): pinyin initials for search, and a digit/letter keypad for
booking codes, serial numbers and ticket numbers."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import ACTION_ALT, DANGER, Ctx, button, card, column, grid, row, text
from kiosk.ui import theme

QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYPAD = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ"
KEY_COLOUR = theme.rgba("#2A4A86")


def pinyin_keyboard(ctx: Ctx) -> Widget:
    """a–z in QWERTY rows, ⌫ and 清空."""
    flows = ctx.flows
    rows = []
    for letters in QWERTY:
        keys = [button(ctx, ch.upper(), ctx.tap(flows.key, ch), KEY_COLOUR, px=40) for ch in letters]
        if letters == QWERTY[-1]:
            keys.append(button(ctx, "退格", ctx.tap(flows.backspace), ACTION_ALT, px=40))
            keys.append(button(ctx, "清空", ctx.tap(flows.clear), DANGER, px=34))
        rows.append(row(*keys, spacing=8))
    return column(*rows, spacing=8)


def keypad(ctx: Ctx, letters: bool = True) -> Widget:
    """Digits (and letters) in a grid, ⌫ and 清空."""
    flows = ctx.flows
    chars = KEYPAD if letters else KEYPAD[:10]
    cols = 10 if letters else 6
    keys: list[Widget] = [button(ctx, ch, ctx.tap(flows.key, ch), KEY_COLOUR, px=40) for ch in chars]
    keys.append(button(ctx, "退格", ctx.tap(flows.backspace), ACTION_ALT, px=40))
    keys.append(button(ctx, "清空", ctx.tap(flows.clear), DANGER, px=34))
    return grid(cols, keys, spacing=8)


def field(ctx: Ctx, value: str, placeholder: str) -> Widget:
    """What was typed so far, in a light box."""
    shown = value or placeholder
    colour = theme.rgba("#10243F") if value else theme.rgba("#7A8699")
    panel = card(text(ctx, shown, px=44, colour=colour, halign="center", bold=bool(value)), colour=theme.TEXT)
    panel.size_hint_y = None
    panel.height = ctx.px(100)
    return panel
