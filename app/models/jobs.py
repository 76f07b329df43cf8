"""Daily jobs: one row per job and day, so several app instances run each job once a day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class DailyJobRun(Base):
    """A daily job's run: the instance that inserts the (job, day) row does the work."""

    __tablename__ = "daily_job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    affected: Mapped[int | None] = mapped_column(Integer, nullable=True)
