"""E.164 normalisation: the cached answer is the parsed one, for valid and invalid numbers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.phone import InvalidPhoneNumber, _e164, to_e164, try_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 415 555 0199", "US", "+14155550199"),
        ("(415) 555-0199", "US", "+14155550199"),
        ("14155550199", "GB", "+14155550199"),  # country code without the '+'
        ("020 7946 0018", "GB", "+442079460018"),
        ("  +353 1 234 5678 ", "US", "+35312345678"),
    ],
)
def test_valid_numbers_normalise_the_same_every_time(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, region) == expected
    assert to_e164(raw, region) == expected  # now from the cache
    assert try_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["anonymous", "", "   ", "+1 555", "1" * 41])
def test_invalid_numbers_fail_every_time(raw: str) -> None:
    for _ in range(2):
        with pytest.raises(InvalidPhoneNumber):
            to_e164(raw)
        assert try_e164(raw) is None


def test_the_error_masks_the_number() -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        to_e164("+1 555 0123 4567 891")
    assert "0123" not in str(caught.value)


def test_the_region_is_part_of_the_answer() -> None:
    # The same national number is a different subscriber in another region.
    assert to_e164("020 7946 0018", "GB") == "+442079460018"
    assert try_e164("020 7946 0018", "US") != "+442079460018"


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="+0123456789 ()-.x", min_size=1, max_size=24),
    st.sampled_from(["US", "GB", "IE", "AU", "DE"]),
)
def test_the_cache_answers_as_a_fresh_parse(raw: str, region: str) -> None:
    text = raw.strip()
    if not text:
        return
    fresh = _e164.__wrapped__(text, region)
    assert _e164(text, region) == fresh
    assert _e164(text, region) == fresh
    assert try_e164(raw, region) == fresh
