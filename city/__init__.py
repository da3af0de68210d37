"""The city tier (issue 17): ingest of every hall's records, the city database, the city API and console.

May import hallcore, broker and firmware_config; never hallserver (and hallserver never imports city)."""
