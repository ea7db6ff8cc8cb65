"""Fixtures with real system components for the tool tests (see the modules they come from)."""

from .dbus_daemon import dbus_daemon, sample_service
from .user_systemd import journaled_user_manager, user_manager

__all__ = ["dbus_daemon", "journaled_user_manager", "sample_service", "user_manager"]
