"""Desk tests share the telephony fixtures (accounts made through the API) and the
console's cookie-keeping client."""

from tests.console.conftest import browser
from tests.telephony.conftest import make_account

__all__ = ["browser", "make_account"]
