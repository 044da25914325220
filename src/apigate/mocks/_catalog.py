"""What the embedded CodeMie knows: its assistants, projects and LLM models (fixed demo data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from apigate.config import DEMO

__all__ = ["ASSISTANTS", "LLM_MODELS", "PROJECTS", "Assistant"]

PROJECTS: Final[Mapping[str, str]] = {"demo": "Demo project", "secret-project": "Secret project"}
OWNER_DEMO: Final = {"id": "8c2e4b1a-6f0d-4c55-9a3e-2d7f3b9e0c11", "username": "demo", "name": "Demo User"}
OWNER_OTHER: Final = {"id": "0b6f9d2e-7c1a-4e3b-8f5d-9a2c4e6b8d10", "username": "alice", "name": "Alice Owner"}


@dataclass(frozen=True)
class Assistant:
    id: str
    name: str
    slug: str
    project: str
    description: str
    system_prompt: str
    llm_model_type: str
    created_by: Mapping[str, str]
    shared: bool = False
    is_global: bool = False
    versions: tuple[int, ...] = (1,)

    def readable_by(self, claims: Mapping[str, Any]) -> bool:
        """Read access: global (marketplace) assistants, the caller's projects, own assistants, realm admins."""
        if self.is_global or self.created_by["id"] == claims.get("sub"):
            return True
        if self.project in (claims.get("applications") or ()):
            return True
        roles = (claims.get("realm_access") or {}).get("roles") or ()
        return "admin" in roles

    def minimal(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "slug": self.slug, "project": self.project, "type": "General",
            "description": self.description, "icon_url": None, "created_by": dict(self.created_by),
            "is_global": self.is_global, "shared": self.shared,
        }

    def full(self) -> dict[str, Any]:
        return {
            **self.minimal(),
            "system_prompt": self.system_prompt,
            "llm_model_type": self.llm_model_type,
            "temperature": None,
            "top_p": None,
            "toolkits": [],
            "context": [],
            "mcp_servers": [],
            "assistant_ids": [],
            "conversation_starters": ["Hello!"],
            "created_date": "2025-01-15T10:00:00",
            "update_date": "2025-06-01T12:30:00",
            "version_count": len(self.versions),
        }


ASSISTANTS: Final[tuple[Assistant, ...]] = (
    Assistant(DEMO.assistant_id, "Demo Assistant", DEMO.assistant_slug, "demo",
              "The assistant of CodeMie's public API example.", "You are a helpful assistant.", "gpt-4o",
              OWNER_DEMO, shared=True, versions=()),  # as the real demo assistant: no version (version 1 -> 404)
    Assistant("3b1f6c2e-9d4a-4e8b-a7c5-1f2e3d4c5b6a", "Code Reviewer", "code-reviewer", "demo",
              "Reviews merge requests.", "You review code.", "gpt-4o-mini", OWNER_OTHER, is_global=True),
    Assistant("9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "Private Assistant", "private-assistant", "secret-project",
              "Only for the secret project.", "You keep secrets.", "claude-sonnet", OWNER_OTHER),
)

LLM_MODELS: Final[tuple[dict[str, Any], ...]] = (
    {"base_name": "gpt-4o", "deployment_name": "gpt-4o-2024-08-06", "label": "GPT-4o", "enabled": True,
     "default": True, "provider": "azure_openai", "multimodal": True, "react_agent": False,
     "max_output_tokens": 16384, "features": {"streaming": True, "tools": True, "temperature": True}},
    {"base_name": "gpt-4o-mini", "deployment_name": "gpt-4o-mini-2024-07-18", "label": "GPT-4o mini",
     "enabled": True, "default": False, "provider": "azure_openai", "multimodal": True, "react_agent": False,
     "max_output_tokens": 16384, "features": {"streaming": True, "tools": True, "temperature": True}},
    {"base_name": "claude-sonnet", "deployment_name": "anthropic.claude-sonnet-4", "label": "Claude Sonnet 4",
     "enabled": True, "default": False, "provider": "aws_bedrock", "multimodal": True, "react_agent": True,
     "max_output_tokens": 8192, "features": {"streaming": True, "tools": True}},
)
