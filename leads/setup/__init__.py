"""A dealer's settings: its channels, grade intervals, assignment rules, reason codes, staff and
roles (what a new dealer starts with: defaults). The models stay in leads.models."""
