"""Platform operations: the dealer's accounts on the lead platforms, the specialist's daily
checklist, and the platforms' scores against the dealer's thresholds."""
