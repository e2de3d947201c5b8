"""Chromium for the roles' browser tests: the dashboard tests' fixture."""

from tests.dashboard.conftest import browser  # noqa: F401 (a fixture, used by name)
