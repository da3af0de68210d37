"""Fault suite: the real broker, the real hall server and printer agent as processes, killed and restarted
under load; asserts that no ticket, call or print job is lost or doubled."""
