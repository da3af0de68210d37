"""The hall's shared domain core: what the kiosk and the hall server both need, importing neither.

Catalog and guides, the working-day calendar, call text and speech, identity checks and masking, the
好差评 scale, error codes, and the printed documents' models. Pure Python + pydantic: a kiosk board
installs this and `broker/`, never the server."""
