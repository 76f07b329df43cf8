"""Alerts per team: channels, rules, the durable outbox and its delivery."""
