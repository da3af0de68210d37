"""Notification transport: the channels (SMS over SMPP 3.4, a signed HTTP webhook) behind one interface, a
local SMSC simulator that speaks the server side of SMPP, and the sender loop that drains the outbox."""
