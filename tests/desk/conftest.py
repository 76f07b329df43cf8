"""Desk tests share the telephony fixtures (accounts made through the API)."""

from tests.telephony.conftest import make_account

__all__ = ["make_account"]
