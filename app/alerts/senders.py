"""Sending one alert: a Slack-compatible incoming webhook (JSON `{"text": ...}`) or an
e-mail over SMTP with TLS. Each returns None when delivered, else the reason in words."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

import httpx

from app.config import Settings

SEND_TIMEOUT_SECONDS = 10.0


def slack_text(subject: str, body: str, link: str) -> str:
    """The message as Slack shows it: bold subject, the body, the console link."""
    return f"*{subject}*\n{body}\n<{link}|Open in Switchboard>"


async def send_webhook(url: str, subject: str, body: str, link: str) -> str | None:
    """POST the alert to an incoming webhook; 2xx is delivered."""
    payload = {"text": slack_text(subject, body, link)}
    try:
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS, trust_env=False) as http:
            answer = await http.post(url, json=payload)
    except httpx.HTTPError as exc:
        return f"the webhook could not be reached: {type(exc).__name__}: {exc}"
    if answer.is_success:
        return None
    return f"the webhook answered {answer.status_code}: {answer.text[:200]}"


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


def _send_mail(settings: Settings, message: EmailMessage) -> None:
    host, port = settings.smtp_host, settings.smtp_port
    smtp: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        smtp = smtplib.SMTP_SSL(
            host, port, timeout=SEND_TIMEOUT_SECONDS, context=_tls_context(settings)
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=SEND_TIMEOUT_SECONDS)
    with smtp:
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=_tls_context(settings))
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


async def send_email(
    settings: Settings, addresses: str, subject: str, body: str, link: str
) -> str | None:
    """Mail the alert to the channel's addresses (in a thread: smtplib blocks)."""
    if not settings.smtp_host or not settings.smtp_from:
        return "e-mail is not configured: set SMTP_HOST and SMTP_FROM"
    message = EmailMessage()
    message["Subject"] = f"[Switchboard] {subject}"
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(a.strip() for a in addresses.split(",") if a.strip())
    message.set_content(f"{body}\n\n{link}\n")
    try:
        async with asyncio.timeout(SEND_TIMEOUT_SECONDS * 3):
            await asyncio.to_thread(_send_mail, settings, message)
    except (smtplib.SMTPException, OSError, TimeoutError) as exc:
        return f"the mail server refused or could not be reached: {type(exc).__name__}: {exc}"
    return None
