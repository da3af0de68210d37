"""Reporting and presentation: turning the services' data into what people read — the console's floor view
and alerts, the 月考核 sheet, SVG charts, Excel workbooks and the printed paperwork of a visit.

Above the services and below the routes and the gateway: it may import the models and the services; the
services never import it."""
