"""Who is asking the embedded CodeMie: the user (or service account) behind a verified Keycloak token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Caller"]


@dataclass(frozen=True)
class Caller:
    """A token's subject as CodeMie sees it: its projects (``applications``), the ones it administers, admin role."""

    id: str
    username: str
    name: str
    email: str
    projects: tuple[str, ...] = ()
    admin_projects: tuple[str, ...] = ()
    is_admin: bool = False

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Caller:
        username = str(claims.get("preferred_username") or claims.get("sub") or "")
        roles = (claims.get("realm_access") or {}).get("roles") or ()
        return cls(
            id=str(claims.get("sub") or ""),
            username=username,
            name=str(claims.get("name") or username),
            email=str(claims.get("email") or ""),  # a service account has none: "" (never null)
            projects=tuple(str(p) for p in claims.get("applications") or ()),
            admin_projects=tuple(str(p) for p in claims.get("applications_admin") or ()),
            is_admin="admin" in roles,
        )

    def profile(self, display_names: Mapping[str, str], *, null_strings: bool = False) -> dict[str, Any]:
        """``GET /v1/user``: strings are never null (``""`` when unknown), as the real server and its SDK have it.

        ``null_strings`` is the contract break that answers null ``email`` / ``picture`` instead.
        """
        unknown = None if null_strings else ""
        return {
            "user_id": self.id, "name": self.name, "username": self.username, "email": self.email or unknown,
            "projects": [{"name": p, "display_name": display_names.get(p), "is_project_admin": p in self.admin_projects}
                         for p in self.projects],
            "project_limit": None, "picture": unknown, "knowledge_bases": [], "user_type": "regular",
            "applications": list(self.projects), "applications_admin": list(self.admin_projects),
            "is_admin": self.is_admin, "is_maintainer": False,
        }
