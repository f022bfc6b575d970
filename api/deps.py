"""FastAPI dependencies, one named ``Annotated`` alias each.

Heavy clients are built once in the lifespan (``api.main``) and live on
``app.state``; these functions only hand them to routers. Authorisation is
decided here too, so every router states its policy in its signature.

The getters take an ``HTTPConnection`` rather than a ``Request`` so the WebSocket
routes can use the same aliases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, status
from fastapi.requests import HTTPConnection
from fastapi.security import OAuth2PasswordBearer

from agent.memory import SessionInfo
from agent.service import ChatService
from agent.turns import TurnRunner
from agent.voice.engines import LazySpeech
from api.evals_runs import EvalRuns
from api.tokens import InvalidToken, TokenService
from core.config import Settings
from storage.stores import Stores
from tools.catalog.store import CatalogStore
from tools.catalog.webhook import WebhookProcessor
from tools.imagegen.service import ImageGenService
from tools.profile.schemas import Role, UserRead
from tools.profile.service import AccountService, NotFound, ProfileService
from tools.recommend.service import RecommendService
from tools.sizing.service import SizingService
from tools.tryon.schemas import TryOnJobRead
from tools.tryon.service import TryOnService
from tools.uploads import UploadStore
from tools.wardrobe.service import WardrobeService

API_PREFIX = "/api/v1"
TOKEN_URL = f"{API_PREFIX}/auth/token"

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


def _stores(connection: HTTPConnection) -> Stores:
    stores: Stores = connection.app.state.stores
    return stores


def _accounts(connection: HTTPConnection) -> AccountService:
    accounts: AccountService = connection.app.state.accounts
    return accounts


def _profiles(connection: HTTPConnection) -> ProfileService:
    profiles: ProfileService = connection.app.state.profiles
    return profiles


def _tokens(connection: HTTPConnection) -> TokenService:
    tokens: TokenService = connection.app.state.tokens
    return tokens


def _chat(connection: HTTPConnection) -> ChatService:
    chat: ChatService = connection.app.state.chat
    return chat


def _turns(connection: HTTPConnection) -> TurnRunner:
    turns: TurnRunner = connection.app.state.turns
    return turns


def _catalog(connection: HTTPConnection) -> CatalogStore:
    catalog: CatalogStore = connection.app.state.catalog
    return catalog


def _sizing(connection: HTTPConnection) -> SizingService:
    sizing: SizingService = connection.app.state.sizing
    return sizing


def _recommend(connection: HTTPConnection) -> RecommendService:
    recommend: RecommendService = connection.app.state.recommend
    return recommend


def _wardrobe(connection: HTTPConnection) -> WardrobeService:
    wardrobe: WardrobeService = connection.app.state.wardrobe
    return wardrobe


def _tryon(connection: HTTPConnection) -> TryOnService:
    tryon: TryOnService = connection.app.state.tryon
    return tryon


def _imagegen(connection: HTTPConnection) -> ImageGenService:
    images: ImageGenService = connection.app.state.imagegen
    return images


def _uploads(connection: HTTPConnection) -> UploadStore:
    uploads: UploadStore = connection.app.state.uploads
    return uploads


def _speech(connection: HTTPConnection) -> LazySpeech:
    speech: LazySpeech = connection.app.state.speech
    return speech


def _eval_runs(connection: HTTPConnection) -> EvalRuns:
    runs: EvalRuns = connection.app.state.eval_runs
    return runs


def _webhook(connection: HTTPConnection) -> WebhookProcessor:
    webhook: WebhookProcessor = connection.app.state.webhook
    return webhook


SettingsDep = Annotated[Settings, Depends(_settings)]
StoresDep = Annotated[Stores, Depends(_stores)]
AccountsDep = Annotated[AccountService, Depends(_accounts)]
ProfilesDep = Annotated[ProfileService, Depends(_profiles)]
TokensDep = Annotated[TokenService, Depends(_tokens)]
ChatDep = Annotated[ChatService, Depends(_chat)]
TurnsDep = Annotated[TurnRunner, Depends(_turns)]
SpeechDep = Annotated[LazySpeech, Depends(_speech)]
CatalogDep = Annotated[CatalogStore, Depends(_catalog)]
WebhookDep = Annotated[WebhookProcessor, Depends(_webhook)]
SizingDep = Annotated[SizingService, Depends(_sizing)]
RecommendDep = Annotated[RecommendService, Depends(_recommend)]
EvalRunsDep = Annotated[EvalRuns, Depends(_eval_runs)]
WardrobeDep = Annotated[WardrobeService, Depends(_wardrobe)]
UploadsDep = Annotated[UploadStore, Depends(_uploads)]
TryOnDep = Annotated[TryOnService, Depends(_tryon)]
ImageGenDep = Annotated[ImageGenService, Depends(_imagegen)]
BearerToken = Annotated[str | None, Depends(_bearer)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate(token: str | None, tokens: TokenService, accounts: AccountService) -> UserRead:
    """The user an access token speaks for, re-read from the store so a disabled account or a changed
    role counts at once; raises a 401 ``HTTPException``. Shared by the bearer header and the WebSocket."""
    return authenticate_until(token, tokens, accounts)[0]


def authenticate_until(
    token: str | None, tokens: TokenService, accounts: AccountService
) -> tuple[UserRead, float]:
    """``authenticate``, plus when the token expires (Unix time), for connections that outlive a request."""
    if not token:
        raise _unauthorized("not signed in: send 'Authorization: Bearer <access token>'")
    try:
        claims = tokens.decode(token, "access")
        user = accounts.get_user(claims.subject)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc
    except NotFound as exc:
        raise _unauthorized("the account for this token no longer exists") from exc
    if not user.is_active:
        raise _unauthorized("account is disabled")
    return user, claims.expires_at


def _current_user(token: BearerToken, tokens: TokensDep, accounts: AccountsDep) -> UserRead:
    return authenticate(token, tokens, accounts)


CurrentUser = Annotated[UserRead, Depends(_current_user)]


def require_roles(*roles: Role) -> Callable[[UserRead], UserRead]:
    allowed = frozenset(roles)

    def check(user: CurrentUser) -> UserRead:
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs one of the roles: {names}")
        return user

    return check


AdminUser = Annotated[UserRead, Depends(require_roles(Role.admin))]
StaffUser = Annotated[UserRead, Depends(require_roles(Role.admin, Role.support))]
EvaluatorUser = Annotated[UserRead, Depends(require_roles(Role.admin, Role.evaluator))]

UserIdPath = Annotated[str, Path(min_length=1, max_length=36, description="The user's id")]


def _reader_of_user(user_id: UserIdPath, user: CurrentUser) -> str:
    """Anyone may read their own record; support and admin may read anyone's."""
    if user.id != user_id and user.role not in {Role.admin, Role.support}:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you can only read your own account")
    return user_id


def _writer_of_user(user_id: UserIdPath, user: CurrentUser) -> str:
    """Only the person themself, or an admin, may change their data; support only reads."""
    if user.id != user_id and user.role is not Role.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you can only change your own account")
    return user_id


ReadableUserId = Annotated[str, Depends(_reader_of_user)]
WritableUserId = Annotated[str, Depends(_writer_of_user)]

SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, description="The chat session's id")]


async def _own_session(session_id: SessionIdPath, user: CurrentUser, chat: ChatDep) -> SessionInfo:
    """The caller's own session. Anyone else's is a 404 rather than a 403, so ids cannot be probed."""
    return await chat.owned(user.id, session_id)


async def _staff_session(session_id: SessionIdPath, staff: StaffUser, chat: ChatDep) -> SessionInfo:
    return await chat.session(session_id)


OwnSession = Annotated[SessionInfo, Depends(_own_session)]

TryOnJobIdPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


def _own_tryon_job(job_id: TryOnJobIdPath, user: CurrentUser, tryon: TryOnDep) -> TryOnJobRead:
    """The caller's own try-on job; anyone else's is a 404, checked before a stream starts."""
    return tryon.get(user.id, job_id)


OwnTryOnJob = Annotated[TryOnJobRead, Depends(_own_tryon_job)]
StaffSession = Annotated[SessionInfo, Depends(_staff_session)]
