"""The managers' live floor: an in-process event hub, short-lived stream tickets and the feed that turns
window, queue and device changes into server-sent events."""
