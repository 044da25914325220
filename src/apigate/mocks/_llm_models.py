"""The embedded CodeMie's ``GET /v1/llm_models``: a model list like a current installation's.

Each entry carries what current servers send (null fields omitted): names, provider, flags, costs per token, the
output limit, features and ``is_premium`` (newer servers add it; the current SDK reads it). Entries marked
``forbidden_for_web`` are listed only with ``include_all=true``.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["LLM_MODELS", "llm_models"]

_FULL_FEATURES: Final = {"streaming": True, "tools": True, "temperature": True, "parallel_tool_calls": False,
                         "system_prompt": True, "max_tokens": True, "top_p": True}
_REASONING_FEATURES: Final = {**_FULL_FEATURES, "temperature": False, "system_prompt": False, "max_tokens": False}
_OPENAI_FEATURES: Final = {**_FULL_FEATURES, "max_tokens": False}


def _model(base_name: str, deployment: str, label: str, provider: str, *, premium: bool, cost: tuple[float, float],
           max_output: int | None, features: dict[str, bool] = _FULL_FEATURES, multimodal: bool = True,
           react_agent: bool | None = None, default: bool = False, categories: tuple[str, ...] = (),
           forbidden_for_web: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "base_name": base_name, "deployment_name": deployment, "label": label, "multimodal": multimodal,
        "react_agent": react_agent, "enabled": True, "supports_image_generation": False, "provider": provider,
        "default": default, "default_for_categories": list(categories),
        "cost": {"input": cost[0], "output": cost[1]}, "max_output_tokens": max_output, "features": dict(features),
        "forbidden_for_web": forbidden_for_web, "is_premium": premium,
    }
    return {key: value for key, value in entry.items() if value is not None}


LLM_MODELS: Final[tuple[dict[str, Any], ...]] = (
    _model("gpt-4.1", "gpt-4.1-2025-04-14", "GPT-4.1", "azure_openai", premium=False, cost=(2.0e-6, 8.0e-6),
           max_output=32768, features=_OPENAI_FEATURES, default=True, categories=("global",)),
    _model("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", "GPT-4.1 mini", "azure_openai", premium=False,
           cost=(4.0e-7, 1.6e-6), max_output=32768, features=_OPENAI_FEATURES),
    _model("gpt-5-2025-08-07", "gpt-5-2025-08-07", "GPT-5", "azure_openai", premium=True, cost=(1.25e-6, 1.0e-5),
           max_output=128000, features=_REASONING_FEATURES),
    _model("gpt-5-mini-2025-08-07", "gpt-5-mini-2025-08-07", "GPT-5 mini", "azure_openai", premium=False,
           cost=(2.5e-7, 2.0e-6), max_output=128000, features=_REASONING_FEATURES),
    _model("gpt-5-nano-2025-08-07", "gpt-5-nano-2025-08-07", "GPT-5 nano", "azure_openai", premium=False,
           cost=(5.0e-8, 4.0e-7), max_output=128000, features=_REASONING_FEATURES),
    _model("o3-mini", "o3-mini-2025-01-31", "o3-mini", "azure_openai", premium=False, cost=(1.1e-6, 4.4e-6),
           max_output=16384, features={**_REASONING_FEATURES, "streaming": False}, multimodal=False,
           react_agent=False),
    _model("o3-2025-04-16", "o3-2025-04-16", "o3", "azure_openai", premium=True, cost=(2.0e-6, 8.0e-6),
           max_output=100000, features=_REASONING_FEATURES, react_agent=False),
    _model("o4-mini-2025-04-16", "o4-mini-2025-04-16", "o4-mini", "azure_openai", premium=False,
           cost=(1.1e-6, 4.4e-6), max_output=100000, features=_REASONING_FEATURES, react_agent=False),
    _model("o1", "o1-2024-12-17", "o1", "azure_openai", premium=True, cost=(1.5e-5, 6.0e-5), max_output=32768,
           features={**_REASONING_FEATURES, "streaming": False}, multimodal=False, react_agent=False,
           forbidden_for_web=True),
    _model("claude-4-5-haiku", "anthropic.claude-haiku-4-5-v1:0", "Claude Haiku 4.5 (Bedrock)", "aws_bedrock",
           premium=False, cost=(1.0e-6, 5.0e-6), max_output=64000),
    _model("claude-4-5-sonnet", "anthropic.claude-sonnet-4-5-v1:0", "Claude Sonnet 4.5 (Bedrock)", "aws_bedrock",
           premium=False, cost=(3.0e-6, 1.5e-5), max_output=64000),
    _model("claude-sonnet-4-6", "anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6 (Bedrock)", "aws_bedrock",
           premium=False, cost=(3.0e-6, 1.5e-5), max_output=64000, categories=("code",)),
    _model("claude-opus-4-5-20251101", "anthropic.claude-opus-4-5-v1:0", "Claude Opus 4.5 (Bedrock)",
           "aws_bedrock", premium=True, cost=(5.0e-6, 2.5e-5), max_output=64000),
    _model("claude-opus-4-6", "anthropic.claude-opus-4-6-v1", "Claude Opus 4.6 (Bedrock)", "aws_bedrock",
           premium=True, cost=(5.0e-6, 2.5e-5), max_output=128000),
    _model("gemini-3-flash", "gemini-3-flash-preview", "Gemini 3 Flash", "google_vertexai", premium=False,
           cost=(5.0e-7, 3.0e-6), max_output=65535),
    _model("gemini-3.1-pro", "gemini-3.1-pro-preview", "Gemini 3.1 Pro", "google_vertexai", premium=True,
           cost=(2.0e-6, 1.2e-5), max_output=65536),
    _model("claude-sonnet-4-5-vertex", "claude-sonnet-4-5@20250929", "Claude Sonnet 4.5 (Vertex AI)",
           "vertex_ai-anthropic_models", premium=False, cost=(3.0e-6, 1.5e-5), max_output=64000),
    _model("deepseek-r1", "deepseek-r1", "DeepSeek R1", "azure_openai", premium=False, cost=(1.35e-6, 5.4e-6),
           max_output=None, multimodal=False, react_agent=True),
)


def llm_models(*, include_all: bool) -> list[dict[str, Any]]:
    """The models a user sees: without ``include_all``, the ones forbidden for the web UI are left out."""
    return [m for m in LLM_MODELS if include_all or not m["forbidden_for_web"]]
