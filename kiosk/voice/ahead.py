"""Which calls are likely next, so their audio can be rendered before they happen: a recall of every ticket
being served, and the next number of each waiting group at each open window serving that group."""

from __future__ import annotations

from collections.abc import Iterable

from broker.messages import Call, QueueState, WindowState
from hallcore.announce import MAX_SEQ, call_speech, parse_ticket, ticket_number


def _last_numbers(calls: Iterable[Call]) -> dict[str, int]:
    """The highest number called so far per ticket prefix."""
    last: dict[str, int] = {}
    for call in calls:
        parsed = parse_ticket(call.ticket)
        if parsed:
            prefix, seq = parsed
            last[prefix] = max(last.get(prefix, 0), seq)
    return last


def likely_calls(
    windows: Iterable[WindowState],
    queue: QueueState | None,
    recent: Iterable[Call],
    limit: int = 16,
) -> list[str]:
    """Speech texts of the calls most likely to come next: each waiting group's next number at the windows
    serving it, idle windows first (they call next), then recalls of the tickets being served."""
    open_windows = sorted((w for w in windows if w.status == "open"), key=lambda w: (w.serving is not None, w.number))
    last = _last_numbers(recent)
    waiting = sorted((g for g in (queue.groups if queue else []) if g.waiting > 0), key=lambda g: -g.waiting)
    nexts = {
        g.group: ticket_number(g.prefix, last.get(g.prefix, 0) + 1)
        for g in waiting
        if last.get(g.prefix, 0) < MAX_SEQ  # after the series' last number nothing more can be called
    }
    per_window = [
        [call_speech(nexts[g.group], w.number) for g in waiting if g.group in nexts and g.group in w.groups]
        for w in open_windows
    ]
    # Window by window (the first candidate of every window, then the second …): one busy group served by
    # many windows does not use up the whole budget.
    depth = max((len(texts) for texts in per_window), default=0)
    ordered = [texts[i] for i in range(depth) for texts in per_window if i < len(texts)]
    ordered += [call_speech(w.serving, w.number, recall=True) for w in open_windows if w.serving]
    return list(dict.fromkeys(ordered))[:limit]
