"""Customer accounts, their phone numbers and the notes specialists add."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import NEVER_REUSE_IDS, Base, UTCDateTime

TIERS = ("standard", "paid")


class Account(Base):
    """A business that calls support."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("tier IN ('standard', 'paid')", name="tier_known"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20), default="standard")
    preferred_language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    external_ref: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Every UPDATE says `WHERE version = <the version read>` and bumps it: of two writers
    # that passed the same If-Match, one gets StaleDataError (412), not a lost update.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy API

    phones: Mapped[list[AccountPhone]] = relationship(
        back_populates="account",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="AccountPhone.position",
    )


class AccountPhone(Base):
    """One E.164 number of an account; several accounts may share a number."""

    __tablename__ = "account_phones"
    __table_args__ = (Index("ix_account_phones_e164", "e164"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    account: Mapped[Account] = relationship(back_populates="phones", lazy="raise")


class AccountNote(Base):
    """A note a specialist or admin added to an account's history."""

    __tablename__ = "account_notes"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(200))
    author_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
