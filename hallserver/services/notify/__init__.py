"""Citizen notifications, the pure part: contacts and consent, Chinese templates, the outbox (idempotent
enqueue, per-number rate limit, retries with backoff, delivery receipts) and the triggers that fill it.
Channels (SMPP, webhook) and the sender loop live in hallserver.notify."""
