"""Shared bits of the Kivy apps on the hall floor: CJK fonts, window set-up (offscreen included), widgets."""
