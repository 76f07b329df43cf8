"""Which pages each role may open: the header's links and each role's home page."""

from __future__ import annotations

from dataclasses import dataclass

from app.models.user import USER_ROLES


@dataclass(frozen=True)
class NavItem:
    """A link in the header, shown to the roles that may open it."""

    label: str
    path: str
    roles: frozenset[str]
    order: int = 50


_NAV: list[NavItem] = []
# Where `GET /` sends a signed-in person; a role without pages of its own gets /home.
_HOME: dict[str, str] = dict.fromkeys(USER_ROLES, "/home")


def register_nav(label: str, path: str, roles: tuple[str, ...], *, order: int = 50) -> None:
    """Add a header link for some roles (idempotent: the same path is registered once)."""
    unknown = set(roles) - set(USER_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    if any(item.path == path for item in _NAV):
        return
    _NAV.append(NavItem(label, path, frozenset(roles), order))
    _NAV.sort(key=lambda item: (item.order, item.label))


def register_home(role: str, path: str) -> None:
    """Make `path` the page `GET /` opens for a role."""
    if role not in USER_ROLES:
        raise ValueError(f"unknown role {role!r}")
    _HOME[role] = path


def nav_for(role: str) -> list[NavItem]:
    """The header links a role may open, in order."""
    return [item for item in _NAV if role in item.roles]


def home_for(role: str) -> str:
    """The page `GET /` opens for a role."""
    return _HOME.get(role, "/home")
