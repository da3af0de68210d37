"""The hall server's commands; `hallq` (hallq/cli.py) loads each only when it is run."""
