"""Demo traffic: realistic calls driven through the real Twilio webhooks, signed."""
