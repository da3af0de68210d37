"""Window displays (one per window) and hall displays (latest calls, queues, hours), driven by the bus."""
