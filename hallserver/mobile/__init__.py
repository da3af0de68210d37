"""Phone pages (H5) behind the QR codes and SMS links, server-rendered under /m/: a ticket's live position,
an item's guide, case progress by serial + query code, the one-time rating link, and the complaint form.
Plain HTML and CSS with large Chinese text, no JS framework; every value is escaped."""

from hallserver.mobile.router import router

__all__ = ["router"]
