"""The explicit list of tools the agent may call; other capabilities add theirs here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tools.base import Tool, ToolContext, ToolResult
from tools.catalog.store import CatalogStore
from tools.catalog.tools import CATALOG_TOOLS
from tools.imagegen.service import ImageGenService
from tools.imagegen.tools import IMAGEGEN_TOOLS
from tools.profile.service import AccountService, ProfileService
from tools.profile.tools import PROFILE_TOOLS
from tools.recommend.service import RecommendService
from tools.recommend.tools import RECOMMEND_TOOLS
from tools.sizing.service import SizingService
from tools.sizing.tools import SIZING_TOOLS
from tools.tryon.service import TryOnService
from tools.tryon.tools import TRYON_TOOLS
from tools.uploads import UploadStore
from tools.wardrobe.service import WardrobeService
from tools.wardrobe.tools import WARDROBE_TOOLS


@dataclass(frozen=True)
class ToolServices:
    """The domain services tools run on, built once by whoever hosts the agent (API, CLI, evals)."""

    accounts: AccountService
    profiles: ProfileService
    #: None where the catalog is not loaded (some CLI and test set-ups); its tools then say so.
    catalog: CatalogStore | None = None
    #: None where sizing is not set up; its tools then say so.
    sizing: SizingService | None = None
    #: None where recommendation is not set up; its tools then say so.
    recommend: RecommendService | None = None
    #: None where the wardrobe is not set up; its tools then say so.
    wardrobe: WardrobeService | None = None
    #: Photos sent in the conversation, for tools that take an ``upload_id``.
    uploads: UploadStore | None = None
    #: None where try-on is not set up; its tools then say so.
    tryon: TryOnService | None = None
    #: None where outfit images are not set up; its tool then says so.
    imagegen: ImageGenService | None = None


class ToolRegistry:
    def __init__(self, tools: tuple[Tool[Any], ...]) -> None:
        names = [t.name for t in tools]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"tool names must be unique: {', '.join(sorted(duplicates))}")
        self._tools = {t.name: t for t in tools}

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool[Any]:
        return self._tools[name]

    def openai_schemas(self) -> list[dict[str, Any]]:
        return [tool.openai_schema() for tool in self._tools.values()]

    def invoke(self, name: str, context: ToolContext, arguments: dict[str, Any]) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult.failure(f"unknown tool {name!r}; available: {', '.join(self._tools)}")
        return tool.invoke(context, arguments)


def default_registry() -> ToolRegistry:
    return ToolRegistry(
        (
            *PROFILE_TOOLS,
            *CATALOG_TOOLS,
            *SIZING_TOOLS,
            *RECOMMEND_TOOLS,
            *WARDROBE_TOOLS,
            *TRYON_TOOLS,
            *IMAGEGEN_TOOLS,
        )
    )
