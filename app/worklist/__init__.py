"""The work list: voicemails and callback requests that specialists claim and close."""
