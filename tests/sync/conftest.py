"""City-link tests: the console's browser fixtures, reused for the floor page's card."""

from tests.console.conftest import console, driver, live_hall  # noqa: F401 (the browser fixtures, reused)
