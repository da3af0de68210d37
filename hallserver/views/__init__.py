"""Views: what the server shows of its state, shared by the REST routes, the bus gateway and the live feed."""
