"""Live events for the console: written with the change, pushed by Server-Sent Events."""
