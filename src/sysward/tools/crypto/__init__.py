"""The crypto tool (``CryptoTool``); see ``sysward.tools.crypto.actions``."""

from sysward.tools.crypto.actions import CryptoTool

__all__ = ["CryptoTool"]
