"""The call center's phone account, for the calls an erasure must reach."""

from tests.calls.conftest import account

__all__ = ["account"]
