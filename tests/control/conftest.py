"""Fixtures for call control: a fake Twilio REST API and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import Settings, load_settings
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.telephony.fake_twilio import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    FakeTwilio,
    running_fake,
)
from tests.worklist.conftest import staff  # noqa: F401 - a fixture used here too

CALLER_ID = "+18005550123"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's REST API, faked on 127.0.0.1."""
    with running_fake() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    """Test settings with REST credentials and the fake's base URL."""
    return load_settings(
        _env_file=None,
        database_url=database_url,
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        default_region="US",
        twilio_account_sid=ACCOUNT_SID,
        twilio_api_key_sid=API_KEY_SID,
        twilio_api_key_secret=API_KEY_SECRET,
        twilio_api_base_url=fake_twilio.base_url,
        twilio_caller_id=CALLER_ID,
        twilio_rest_timeout_seconds=5,
    )
