"""What the embedded CodeMie knows besides its models: assistants, templates, categories, tools, data sources.

The data is apigate's own demo installation: a few projects, people who created assistants, project assistants
(shared or private) and marketplace (global) ones with categories, usage and reactions, so that the list
endpoint's scopes, filters, sorting and pagination have something to work on. The records render themselves as
the real server's JSON (snake_case, every key present, null where unset).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from apigate.config import DEMO
from apigate.mocks._caller import Caller

__all__ = [
    "ASSISTANTS", "CATEGORIES", "DATASOURCES", "PROJECTS", "SUBAGENTS", "TEMPLATES", "TOOLKITS", "Assistant",
    "Person", "category_json", "find_by_slug", "template_by_slug", "template_json",
]

PROJECTS: Final[Mapping[str, str]] = {
    "demo": "Demo project", "platform-tools": "Platform tools", "secret-project": "Secret project",
    "codemie": "CodeMie marketplace",
}


@dataclass(frozen=True)
class Person:
    id: str
    username: str
    name: str

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "username": self.username, "name": self.name}


DEMO_USER: Final = Person("8c2e4b1a-6f0d-4c55-9a3e-2d7f3b9e0c11", DEMO.username, "Demo User")
ALICE: Final = Person("0b6f9d2e-7c1a-4e3b-8f5d-9a2c4e6b8d10", "alice", "Alice Novak")
BOHDAN: Final = Person("3f9a1c7e-2b84-4d6f-a0e5-7c1d9b3e5f22", "bkovalenko", "Bohdan Kovalenko")
PRIYA: Final = Person("6d2e8f4a-1c3b-4a9e-b7d5-0e2f4c6a8b13", "praman", "Priya Raman")
MARTA: Final = Person("a4c6e8f0-2b4d-4f6a-8c0e-1d3f5b7a9c24", "mlindqvist", "Marta Lindqvist")
CODEMIE_TEAM: Final = Person("5e7a9c1b-3d5f-4e7a-9c1b-3d5f7a9c1b35", "codemie-team", "CodeMie Team")

CATEGORIES: Final[tuple[dict[str, str], ...]] = (
    {"id": "engineering", "name": "Engineering", "description": "Writing, reviewing and explaining code."},
    {"id": "quality-assurance", "name": "Quality Assurance", "description": "Test design, test automation and "
                                                                            "release quality."},
    {"id": "devops", "name": "DevOps", "description": "Infrastructure, deployments, observability and incidents."},
    {"id": "business-analysis", "name": "Business Analysis", "description": "Requirements, user stories and "
                                                                            "stakeholder communication."},
    {"id": "product-management", "name": "Product Management", "description": "Roadmaps, priorities and product "
                                                                              "discovery."},
    {"id": "data-analytics", "name": "Data Analytics", "description": "Queries, reports and data quality."},
    {"id": "support", "name": "Support", "description": "Help desks, triage and answers to recurring questions."},
    {"id": "security", "name": "Security", "description": "Threat models, secure code and compliance checks."},
    {"id": "documentation", "name": "Documentation", "description": "Guides, release notes and API docs."},
    {"id": "migration-modernization", "name": "Migration & Modernization",
     "description": "Moving legacy systems to current platforms."},
)
_CATEGORY_BY_ID: Final = {c["id"]: c for c in CATEGORIES}
_CATEGORY_DATE: Final = "2025-01-10T08:00:00"


def _tool(name: str, label: str, settings: bool = False) -> dict[str, Any]:
    return {"name": name, "label": label, "settings_config": settings, "user_description": None}


_TOOLKIT_LIST: Final[tuple[dict[str, Any], ...]] = (
        {"toolkit": "Git", "label": "Git", "settings_config": True, "is_external": False, "tools": [
            _tool("git_list_branches", "List branches", True), _tool("git_read_file", "Read file", True),
            _tool("git_create_merge_request", "Create merge request", True),
            _tool("git_merge_request_diff", "Merge request diff", True)]},
        {"toolkit": "Research", "label": "Research", "settings_config": False, "is_external": False, "tools": [
            _tool("web_search", "Web search"), _tool("fetch_web_page", "Fetch web page"),
            _tool("wikipedia_search", "Wikipedia")]},
        {"toolkit": "Project Management", "label": "Project Management", "settings_config": True,
         "is_external": False, "tools": [_tool("jira", "Jira", True), _tool("confluence", "Confluence", True)]},
        {"toolkit": "Cloud", "label": "Cloud", "settings_config": True, "is_external": False, "tools": [
            _tool("aws", "AWS", True), _tool("azure", "Azure", True), _tool("gcp", "Google Cloud", True),
            _tool("kubernetes", "Kubernetes", True)]},
        {"toolkit": "Data Management", "label": "Data Management", "settings_config": True, "is_external": False,
         "tools": [_tool("sql", "SQL", True), _tool("elasticsearch", "Elasticsearch", True)]},
        {"toolkit": "Quality Assurance", "label": "Quality Assurance", "settings_config": True,
         "is_external": False, "tools": [_tool("zephyr_scale", "Zephyr Scale", True), _tool("xray", "Xray", True)]},
)
TOOLKITS: Final[Mapping[str, dict[str, Any]]] = {str(t["toolkit"]): t for t in _TOOLKIT_LIST}

SUBAGENTS: Final[tuple[dict[str, str], ...]] = (
    {"id": "general_purpose", "display_name": "General Purpose"},
    {"id": "web_researcher", "display_name": "Web Researcher"},
    {"id": "code_explorer", "display_name": "Code Explorer"},
    {"id": "task_planner", "display_name": "Task Planner"},
)

# indexed data sources an assistant can use as context: (id, name, context type, project)
DATASOURCES: Final[tuple[tuple[str, str, str, str], ...]] = (
    ("2f1e0d9c-8b7a-4a65-9f4e-3d2c1b0a9f81", "demo-backend", "code", "demo"),
    ("4a3b2c1d-0e9f-4d8c-8b7a-6f5e4d3c2b92", "demo-frontend", "code", "demo"),
    ("6c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3ea3", "demo-wiki", "knowledge_base", "demo"),
    ("8e7f6a5b-4c3d-4e2f-a1b0-9c8d7e6f5ab4", "jira-demo-board", "knowledge_base", "demo"),
    ("0a9b8c7d-6e5f-4a4b-b3c2-1d0e9f8a7bc5", "platform-runbooks", "knowledge_base", "platform-tools"),
    ("1b0c9d8e-7f6a-4b5c-c4d3-2e1f0a9b8cd6", "terraform-modules", "code", "platform-tools"),
)
_DATASOURCE_BY_NAME: Final = {name: (id_, kind) for id_, name, kind, _ in DATASOURCES}


def _date(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@dataclass(frozen=True)
class Assistant:
    id: str
    name: str
    slug: str
    project: str
    description: str
    system_prompt: str
    llm_model_type: str
    created_by: Person
    created: dt.datetime
    updated: dt.datetime
    categories: tuple[str, ...] = ()
    shared: bool = False
    is_global: bool = False
    users: int = 0  # unique_users_count (the marketplace's popularity)
    likes: int = 0
    dislikes: int = 0
    toolkits: tuple[str, ...] = ()
    context: tuple[str, ...] = ()  # data source names
    starters: tuple[str, ...] = ()
    versions: tuple[int, ...] = (1,)
    icon_url: str | None = None

    # ---- access, as CodeMie's Ability rules have it -----------------------------------------------------------
    def managed_by(self, caller: Caller) -> bool:
        """Write/delete: the creator, the project's admins, realm admins."""
        return caller.is_admin or self.created_by.id == caller.id or self.project in caller.admin_projects

    def readable_by(self, caller: Caller) -> bool:
        """Read: marketplace (global) assistants, shared ones of the caller's projects, and what it manages."""
        return self.is_global or self.managed_by(caller) or (self.shared and self.project in caller.projects)

    def abilities(self, caller: Caller) -> list[str]:
        return ["read", "write", "delete"] if self.managed_by(caller) else ["read"]

    # ---- JSON -------------------------------------------------------------------------------------------------
    def minimal(self, caller: Caller) -> dict[str, Any]:
        """An item of ``GET /v1/assistants?minimal_response=true``."""
        return {
            "id": self.id, "name": self.name, "slug": self.slug, "project": self.project, "type": "codemie",
            "description": self.description, "icon_url": self.icon_url, "created_by": self.created_by.ref(),
            "user_abilities": self.abilities(caller), "unique_users_count": self.users,
            "unique_likes_count": self.likes, "unique_dislikes_count": self.dislikes,
            "categories": list(self.categories), "is_global": self.is_global, "shared": self.shared,
            "origin": "unknown",
        }

    def full(self, caller: Caller, *, detail: bool = False) -> dict[str, Any]:
        """An item of the full list; ``detail``: the by-id / by-slug answer (categories expanded, skills added)."""
        body: dict[str, Any] = {
            **self.minimal(caller),
            "system_prompt": self.system_prompt, "system_prompt_history": [], "llm_model_type": self.llm_model_type,
            "temperature": None, "top_p": None, "toolkits": [TOOLKITS[name] for name in self.toolkits],
            "context": [{"context_type": _DATASOURCE_BY_NAME[name][1], "name": name} for name in self.context],
            "mcp_servers": [], "assistant_ids": [], "nested_assistants": [], "enabled_builtin_subagents": [],
            "prompt_variables": [], "conversation_starters": list(self.starters), "is_react": True,
            "creator": "system", "date": self.created.isoformat(), "created_date": self.created.isoformat(),
            "update_date": self.updated.isoformat(), "updated_date": None, "version_count": max(len(self.versions), 1),
            "agent_mode": "general", "smart_tool_selection_enabled": False, "skill_ids": [],
            "tools_tokens_size_limit": None, "custom_metadata": None, "display_name": None,
        }
        if detail:
            body["categories"] = [_CATEGORY_BY_ID[c] for c in self.categories]
            body["skills"] = []
        return body


def _assistant(id_: str, name: str, slug: str, project: str, by: Person, created: str, updated: str,
               description: str, prompt: str, model: str, **more: Any) -> Assistant:
    return Assistant(id_, name, slug, project, description, prompt, model, by, _date(created), _date(updated), **more)


ASSISTANTS: Final[tuple[Assistant, ...]] = (
    _assistant(DEMO.assistant_id, "Demo Assistant", DEMO.assistant_slug, "demo", DEMO_USER,
               "2025-01-15T10:00:00", "2025-11-28T16:40:12", "The assistant of CodeMie's public API example.",
               "You are a helpful assistant.", "gpt-4.1", shared=True, users=42, likes=7, dislikes=1,
               starters=("Hello!", "What can you do?"), versions=()),  # as the real demo: "version": 1 -> 404
    _assistant("3b1f6c2e-9d4a-4e8b-a7c5-1f2e3d4c5b6a", "Code Reviewer", "code-reviewer", "demo", ALICE,
               "2025-02-03T09:12:44", "2025-10-30T11:05:09", "Reviews merge requests for bugs, style and tests.",
               "You review code changes and point out defects first.", "claude-4-5-sonnet",
               categories=("engineering", "quality-assurance"), is_global=True, users=1840, likes=212, dislikes=9,
               toolkits=("Git",), starters=("Review my merge request",)),
    _assistant("9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d", "Private Assistant", "private-assistant", "secret-project",
               ALICE, "2025-03-01T08:00:00", "2025-03-02T08:00:00", "Only for the secret project.",
               "You keep secrets.", "claude-4-5-haiku"),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e01", "Release Notes Writer", "release-notes-writer", "demo",
               DEMO_USER, "2025-04-22T13:30:00", "2025-11-02T09:15:00",
               "Turns merged merge requests into release notes for users.",
               "Write release notes that users understand.", "gpt-4.1-mini", categories=("documentation",
                                                                                         "engineering"),
               shared=True, users=57, likes=11, toolkits=("Git",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e02", "SQL Tutor", "sql-tutor", "demo", PRIYA,
               "2025-05-06T07:45:10", "2025-09-14T18:20:00", "Explains and optimises SQL queries step by step.",
               "Teach SQL with small examples.", "gpt-4.1", categories=("data-analytics",), shared=True, users=133,
               likes=25, dislikes=2, toolkits=("Data Management",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e03", "Jira Story Refiner", "jira-story-refiner", "demo",
               DEMO_USER, "2025-06-18T12:00:00", "2025-11-25T08:05:33",
               "Rewrites rough tickets into user stories with acceptance criteria.",
               "Refine user stories; ask for missing acceptance criteria.", "claude-4-5-sonnet",
               categories=("business-analysis", "product-management"), users=9, likes=2,
               toolkits=("Project Management",), context=("jira-demo-board",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e04", "Incident Commander", "incident-commander",
               "platform-tools", BOHDAN, "2025-02-27T22:10:00", "2025-11-11T03:44:00",
               "Coordinates incident response: timeline, owners, status updates.",
               "Run the incident like a calm commander.", "gpt-5-2025-08-07", categories=("devops", "support"),
               shared=True, users=310, likes=48, dislikes=3, toolkits=("Cloud",), context=("platform-runbooks",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e05", "Terraform Helper", "terraform-helper", "platform-tools",
               DEMO_USER, "2025-07-09T15:00:00", "2025-08-01T10:10:10",
               "Writes and reviews Terraform modules for the platform team.",
               "Answer with Terraform code and a short explanation.", "gpt-4.1", categories=("devops",),
               users=4, toolkits=("Cloud", "Git"), context=("terraform-modules",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e06", "Test Case Generator", "test-case-generator", "demo", MARTA,
               "2025-03-19T10:20:30", "2025-10-05T14:00:00",
               "Derives test cases and edge cases from requirements.", "Produce test cases as a table.",
               "gpt-4.1-mini", categories=("quality-assurance",), is_global=True, users=960, likes=101,
               dislikes=12, toolkits=("Quality Assurance",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e07", "Security Threat Modeler", "threat-modeler", "codemie",
               BOHDAN, "2025-01-29T11:11:11", "2025-09-30T09:00:00",
               "Builds STRIDE threat models from architecture descriptions.",
               "List threats per component with mitigations.", "claude-opus-4-5-20251101", categories=("security",),
               is_global=True, users=415, likes=66, dislikes=4, toolkits=("Research",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e08", "Legacy Java Migrator", "legacy-java-migrator", "codemie",
               ALICE, "2025-02-14T16:00:00", "2025-07-21T12:12:12",
               "Plans and performs migrations from Java 8 to current Java and Spring versions.",
               "Migrate code step by step; keep behaviour.", "claude-4-5-sonnet",
               categories=("migration-modernization", "engineering"), is_global=True, users=288, likes=39,
               dislikes=6, toolkits=("Git",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e09", "Support Triage Bot", "support-triage", "demo", MARTA,
               "2025-05-30T09:30:00", "2025-11-19T17:45:00",
               "Sorts incoming support requests by product area and urgency.",
               "Classify each request and suggest the next step.", "gemini-3-flash", categories=("support",),
               shared=True, users=76, likes=8, dislikes=5, toolkits=("Project Management",),
               context=("demo-wiki",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e10", "Data Quality Checker", "data-quality-checker", "demo",
               PRIYA, "2025-08-12T08:08:08", "2025-10-22T10:00:00",
               "Finds nulls, duplicates and drift in tables before a report ships.",
               "Check data quality and report findings.", "gpt-5-mini-2025-08-07", categories=("data-analytics",),
               users=12, likes=1, toolkits=("Data Management",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e11", "API Docs Explainer", "api-docs-explainer", "codemie", PRIYA,
               "2025-04-01T10:00:00", "2025-06-30T16:30:00",
               "Answers questions about an OpenAPI document with examples.",
               "Explain APIs with curl examples.", "gpt-4.1-mini", categories=("documentation",), is_global=True,
               users=502, likes=58, dislikes=2, toolkits=("Research",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e12", "Kubernetes Troubleshooter", "k8s-troubleshooter",
               "codemie", BOHDAN, "2025-03-08T19:00:00", "2025-11-15T07:30:00",
               "Diagnoses failing pods, deployments and ingresses from kubectl output.",
               "Ask for kubectl output, then diagnose.", "gpt-5-2025-08-07", categories=("devops",), is_global=True,
               users=733, likes=90, dislikes=15, toolkits=("Cloud",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e13", "Python Pair Programmer", "python-pair-programmer", "demo",
               DEMO_USER, "2025-09-01T09:00:00", "2025-11-27T13:13:13",
               "Writes Python with tests and explains each change.", "Write idiomatic, tested Python.",
               "claude-sonnet-4-6", categories=("engineering",), shared=True, users=64, likes=14, dislikes=1,
               toolkits=("Git",), context=("demo-backend",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e14", "Meeting Summarizer", "meeting-summarizer", "codemie", MARTA,
               "2025-02-02T12:00:00", "2025-08-18T08:00:00",
               "Summarises meeting transcripts into decisions, actions and owners.",
               "Summarise: decisions, actions, owners.", "gemini-3-flash",
               categories=("business-analysis", "support"), is_global=True, users=1203, likes=140, dislikes=21),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e15", "Accessibility Auditor", "accessibility-auditor",
               "platform-tools", MARTA, "2025-06-02T10:45:00", "2025-09-09T09:09:09",
               "Checks web pages against WCAG 2.2 and explains each finding.",
               "Audit accessibility and cite WCAG criteria.", "gpt-4.1", categories=("quality-assurance",),
               shared=True, users=23, likes=5),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e16", "Cloud Cost Advisor", "cloud-cost-advisor", "codemie", BOHDAN,
               "2025-05-15T14:14:14", "2025-10-10T10:10:10",
               "Finds idle resources and cheaper instance types in cloud bills.",
               "Suggest savings with estimated amounts.", "o4-mini-2025-04-16",
               categories=("devops", "data-analytics"), is_global=True, users=197, likes=22, dislikes=7,
               toolkits=("Cloud",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e17", "Onboarding Buddy", "onboarding-buddy", "demo", ALICE,
               "2025-07-01T08:30:00", "2025-11-03T15:00:00",
               "Answers newcomers' questions about the demo project's code and processes.",
               "Be welcoming; link to the wiki.", "gpt-4.1-mini", categories=("support", "documentation"),
               shared=True, users=38, likes=9, context=("demo-wiki", "demo-backend")),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e18", "Regex Wizard", "regex-wizard", "codemie", PRIYA,
               "2025-10-20T20:20:20", "2025-10-21T09:00:00", "Writes and explains regular expressions.",
               "Give the regex, then test strings.", "gpt-5-nano-2025-08-07", categories=("engineering",),
               is_global=True, users=31, likes=6),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e19", "Code Reviewer (Platform)", "code-reviewer",
               "platform-tools", BOHDAN, "2025-04-04T04:04:04", "2025-10-01T12:00:00",
               "The platform team's reviewer, tuned for Terraform and Helm charts.",
               "Review infrastructure code.", "claude-4-5-sonnet", categories=("devops", "engineering"),
               shared=True, users=41, likes=3, toolkits=("Git",)),
    _assistant("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e20", "Changelog Auditor", "changelog-auditor", "secret-project",
               PRIYA, "2025-08-30T11:00:00", "2025-09-02T11:00:00",
               "Checks that every change of the secret project has a changelog entry.",
               "Compare changes with the changelog.", "gpt-4.1-mini", categories=("documentation",), shared=True,
               users=3),
)

# scope=templates and GET /v1/assistants/prebuilt: ready-made assistants to copy into a project
TEMPLATES: Final[tuple[Assistant, ...]] = (
    _assistant("", "[Template] User Story Composer", "template-user-story-composer", "", CODEMIE_TEAM,
               "2025-01-01T00:00:00", "2025-01-01T00:00:00",
               "Prebuilt business analyst: drafts epics and user stories in Jira.",
               "You are a business analyst who writes clear user stories.", "gpt-4.1",
               categories=("business-analysis",), toolkits=("Project Management",)),
    _assistant("", "[Template] Python Developer", "template-python-developer", "", CODEMIE_TEAM,
               "2025-01-01T00:00:00", "2025-01-01T00:00:00",
               "Prebuilt developer: implements Python changes with tests in a Git repository.",
               "You are a careful Python developer.", "claude-4-5-sonnet", categories=("engineering",),
               toolkits=("Git",)),
    _assistant("", "[Template] QA Checklist Generator", "template-qa-checklist", "", CODEMIE_TEAM,
               "2025-01-01T00:00:00", "2025-01-01T00:00:00",
               "Prebuilt tester: turns a feature description into a QA checklist.",
               "You are a QA engineer.", "gpt-4.1-mini", categories=("quality-assurance",),
               toolkits=("Quality Assurance",)),
    _assistant("", "[Template] Cloud Engineer", "template-cloud-engineer", "", CODEMIE_TEAM,
               "2025-01-01T00:00:00", "2025-01-01T00:00:00",
               "Prebuilt DevOps engineer: inspects and changes cloud resources.",
               "You are a cautious cloud engineer.", "gpt-5-2025-08-07", categories=("devops",),
               toolkits=("Cloud",)),
)


def find_by_slug(slug: str, project: str | None = None) -> Assistant | None:
    """The first assistant with ``slug`` (in ``project`` when one is given; an empty project is ignored)."""
    return next((a for a in ASSISTANTS if a.slug == slug and (not project or a.project == project)), None)


def template_by_slug(slug: str) -> Assistant | None:
    return next((t for t in TEMPLATES if t.slug == slug), None)


def template_json(template: Assistant, caller: Caller) -> dict[str, Any]:
    """A prebuilt assistant: an assistant without an id, placed in the caller's current project."""
    body = template.full(caller)
    body.update(id=None, project=caller.projects[0] if caller.projects else "", user_abilities=None)
    return body


def category_json(category: Mapping[str, str]) -> dict[str, Any]:
    """``GET /v1/assistants/categories`` item (the legacy, unpaginated list)."""
    return {**category, "date": _CATEGORY_DATE, "update_date": None}
