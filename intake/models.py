"""Imports and webhooks: how leads get in from files and platforms."""
