"""Call reports: offered, answered, abandoned, speed of answer, service level, handle time."""
