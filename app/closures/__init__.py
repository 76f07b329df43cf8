"""Opening hours of the support line: coverage hours, public holidays and one-off closures."""
