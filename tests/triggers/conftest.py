"""Fixtures with real system components for the trigger source tests (from tests/tools)."""

from tools.user_systemd import journaled_user_manager, user_manager

__all__ = ["journaled_user_manager", "user_manager"]
