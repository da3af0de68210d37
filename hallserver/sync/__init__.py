"""The hall side of the city link (PROTOCOL.md "The city link"): records captured into the outbox in the
same transaction as the change they record (capture), the outbox and its gapless sequence (outbox), the
periodic device-health and queue records (periodic), the publisher to the hall broker's bridge (link) and
the status managers see (status)."""
