"""The fake provider API (tests/calls/fake_provider.py) for every test under tests/calls."""

from tests.calls.fake_provider import fake_provider

__all__ = ["fake_provider"]
