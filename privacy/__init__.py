"""Consent and personal data (PIPL): the consent ledger per customer and purpose, the
do-not-call list, and a customer's data exported or erased."""
