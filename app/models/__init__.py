"""ORM tables. Importing this package registers every table on Base.metadata."""

from app.models.account import Account, AccountNote, AccountPhone
from app.models.api_key import ApiKey
from app.models.base import Base

__all__ = ["Account", "AccountNote", "AccountPhone", "ApiKey", "Base"]
