"""Consumers: how ingest workers take hall records from the city broker (each engine's own competing-consumer
mechanism) and send acknowledgements back. `base.Consumer` is the interface; `mqtt` is Mosquitto's
`$share/…`, `amqp` (H4) a durable RabbitMQ queue."""
