"""Twilio: signature checks, form parsing and TwiML; turns webhooks into IVR engine input.

The IVR engine (app.ivr) decides what happens next; this package answers its queries from
the database (accounts, rota), rings specialists, keeps the call log and renders TwiML.
"""
