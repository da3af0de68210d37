"""On-screen keyboards (a kiosk has no system IME): pinyin initials for search, and a digit/letter keypad for
booking codes, serial numbers and ticket numbers."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.terminal.screens.parts import ACTION_ALT, DANGER, Ctx, button, card, column, grid, row, text
from kiosk.ui import theme

QWERTY = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYPAD = "1234567890ABCDEFGHIJKLMNOPQRSTUVWXYZ"
KEY_COLOUR = theme.rgba("#2A4A86")


KEY_H = 84  # design px: keys keep their shape whatever the screen's height (大字版: ×1.3)
GAP = 8


def pinyin_keyboard(ctx: Ctx) -> Widget:
    """a–z in QWERTY rows, ⌫ and 清空."""
    flows = ctx.flows
    rows = []
    height = ctx.px(KEY_H)
    for letters in QWERTY:
        keys = [button(ctx, ch.upper(), ctx.tap(flows.key, ch), KEY_COLOUR, px=40) for ch in letters]
        if letters == QWERTY[-1] and not ctx.elderly:
            keys.append(button(ctx, "退格", ctx.tap(flows.backspace), ACTION_ALT, px=36, size_hint_x=1.4))
            keys.append(button(ctx, "清空", ctx.tap(flows.clear), DANGER, px=34, size_hint_x=1.4))
        rows.append(row(*keys, spacing=GAP, size_hint_y=None, height=height))
    if ctx.elderly:  # 大字版: the two wide keys on their own row, never squeezed
        rows.append(
            row(
                button(ctx, "退格", ctx.tap(flows.backspace), ACTION_ALT, px=36),
                button(ctx, "清空", ctx.tap(flows.clear), DANGER, px=36),
                spacing=GAP,
                size_hint_y=None,
                height=height,
            )
        )
    return column(*rows, spacing=GAP, size_hint_y=None, height=len(rows) * height + (len(rows) - 1) * GAP)


def keypad(ctx: Ctx, letters: bool = True) -> Widget:
    """Digits (and letters) in a grid of square-ish keys, ⌫ and 清空."""
    flows = ctx.flows
    chars = KEYPAD if letters else KEYPAD[:10]
    cols = (8 if ctx.elderly else 10) if letters else 6  # 大字版: wider keys
    height = ctx.px(KEY_H)
    keys: list[Widget] = [
        button(ctx, ch, ctx.tap(flows.key, ch), KEY_COLOUR, px=40, size_hint_y=None, height=height) for ch in chars
    ]
    keys.append(button(ctx, "退格", ctx.tap(flows.backspace), ACTION_ALT, px=34, size_hint_y=None, height=height))
    keys.append(button(ctx, "清空", ctx.tap(flows.clear), DANGER, px=34, size_hint_y=None, height=height))
    rows = -(-len(keys) // cols)
    return grid(cols, keys, spacing=GAP, size_hint_y=None, height=rows * height + (rows - 1) * GAP)


def field(ctx: Ctx, value: str, placeholder: str) -> Widget:
    """What was typed so far, in a light box."""
    shown = value or placeholder
    colour = theme.rgba("#10243F") if value else theme.rgba("#4F5B6E")
    panel = card(text(ctx, shown, px=44, colour=colour, halign="center", bold=bool(value)), colour=theme.TEXT)
    panel.size_hint_y = None
    panel.height = ctx.px(100)
    return panel
