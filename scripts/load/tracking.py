"""Delivery bookkeeping of the load tool (standard library only, so tests run it without the load venv):
every message of the measured window, who must see it (the room's members) and who has seen it through
sync. Lost = a member never saw a confirmed message; duplicated = a client's sync delivered one twice.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)
    return {"count": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1)}


@dataclass
class Message:
    room: str
    sender: int
    sent_at: float
    recipients: frozenset[int]
    confirmed: bool = False
    failed: bool = False
    seen_by: set[int] = field(default_factory=set)


class Tracker:
    """Every message of the measured window and who has seen it: the basis of lost/duplicated counts."""

    def __init__(self):
        self.messages: dict[str, Message] = {}
        self.duplicates = 0
        self.unknown_seen = 0
        self.send_ms: list[float] = []
        self.delivery_ms: dict[str, list[float]] = {"sync": [], "sliding sync": []}
        self.backfilled = 0
        self.limited_timelines = 0
        self.media = {"uploaded": 0, "downloaded": 0, "mismatched": 0}

    def sending(self, load_id: str, room: str, sender: int, members: list[int]) -> None:
        self.messages[load_id] = Message(room, sender, time.time(), frozenset(members))

    def sent(self, load_id: str, ok: bool) -> None:
        message = self.messages[load_id]
        message.confirmed, message.failed = ok, not ok
        if ok:
            self.send_ms.append((time.time() - message.sent_at) * 1000)

    def seen(self, client: int, load_id: str, via: str, backfill: bool = False) -> None:
        message = self.messages.get(load_id)
        if message is None:
            self.unknown_seen += 1
            return
        if client in message.seen_by:
            if not backfill:  # a back-fill may overlap what sync delivered: only sync repeating itself is a duplicate
                self.duplicates += 1
            return
        message.seen_by.add(client)
        if backfill:
            self.backfilled += 1
        if client != message.sender:
            self.delivery_ms[via].append((time.time() - message.sent_at) * 1000)

    def outstanding(self) -> int:
        return sum(len(m.recipients - m.seen_by) for m in self.messages.values() if m.confirmed)

    def summary(self) -> dict:
        confirmed = [m for m in self.messages.values() if m.confirmed]
        expected = sum(len(m.recipients) for m in confirmed)
        delivered = sum(len(m.seen_by & m.recipients) for m in confirmed)
        return {
            "sent": len(confirmed),
            "send_failed": sum(1 for m in self.messages.values() if m.failed),
            "seen_after_failed_send": sum(1 for m in self.messages.values() if m.failed and m.seen_by),
            "expected_deliveries": expected,
            "delivered": delivered,
            "lost": expected - delivered,
            "duplicated": self.duplicates,
            "unknown_seen": self.unknown_seen,
            "limited_timelines": self.limited_timelines,
            "backfilled": self.backfilled,
        }
