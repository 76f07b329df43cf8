"""Routing: who to ring for a call, reservations across app instances, the queue, explain."""
