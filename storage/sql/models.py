"""Table definitions. Schema only: business rules live in ``tools/``.

Measurements are stored normalised (centimetres, kilograms, EU shoe sizes) so
every consumer (sizing, recommendation) reads one unit; the person's display
units are stored beside them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.sql.types import UTCDateTime, utcnow

# Deterministic constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Loaded on access, not joined: account reads do not need it, and PostgreSQL refuses
    # SELECT ... FOR UPDATE (used to lock a user row) across an outer join.
    profile: Mapped[Profile] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )


class Profile(Base):
    __tablename__ = "profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    chest_cm: Mapped[float | None] = mapped_column(Float)
    waist_cm: Mapped[float | None] = mapped_column(Float)
    hips_cm: Mapped[float | None] = mapped_column(Float)
    inseam_cm: Mapped[float | None] = mapped_column(Float)
    shoulder_cm: Mapped[float | None] = mapped_column(Float)
    shoe_size_eu: Mapped[float | None] = mapped_column(Float)
    body_shape: Mapped[str | None] = mapped_column(String(32))
    fit_preference: Mapped[str | None] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(16))
    styles: Mapped[list[str]] = mapped_column(default=list)
    favourite_colours: Mapped[list[str]] = mapped_column(default=list)
    avoided_colours: Mapped[list[str]] = mapped_column(default=list)
    budget_min: Mapped[float | None] = mapped_column(Float)
    budget_max: Mapped[float | None] = mapped_column(Float)
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    home_city: Mapped[str | None] = mapped_column(String(80))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    length_unit: Mapped[str] = mapped_column(String(4), default="cm")
    weight_unit: Mapped[str] = mapped_column(String(4), default="kg")
    consents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile")


class RefreshToken(Base):
    """One row per issued refresh token so rotation and reuse detection work.

    Tokens of one sign-in share a ``family_id``; presenting a token that was
    already rotated revokes the whole family (a stolen token is then useless).
    """

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(36))


class OutboxEvent(Base):
    """Events written in the same transaction as the data they announce.

    A relay publishes unpublished rows to the event bus, so a database write and
    its event can never diverge (the design's outbox contract).
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_unpublished", "published_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    topic: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ChatSession(Base):
    """A conversation: its id is the agent's checkpoint thread id; it expires after inactivity."""

    __tablename__ = "chat_sessions"
    __table_args__ = (Index("ix_chat_sessions_handoff", "handoff", "last_active_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: Set when the session expired and its checkpoint was deleted; the row stays for audit.
    expired_at: Mapped[datetime | None] = mapped_column(default=None)
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff_since: Mapped[datetime | None] = mapped_column(default=None)
    #: The support user who took the conversation, if one has.
    staff_id: Mapped[str | None] = mapped_column(String(36), default=None)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    #: The start of the first thing the person wrote, so a list of conversations can name them.
    title: Mapped[str | None] = mapped_column(String(120), default=None)


# --- catalog -------------------------------------------------------------------------------------
# Prices are exact decimals in the database (NUMERIC) and floats in Python: two decimal places of
# CNY survive a float round trip, and every consumer (search documents, JSON) wants floats anyway.
Money = Numeric(12, 2, asdecimal=False)


class Product(Base):
    """A sellable product; its attributes come from a source (the shipped dataset or a feed)."""

    __tablename__ = "products"
    __table_args__ = (Index("ix_products_category", "master_category", "article_type"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str | None] = mapped_column(String(120))
    gender: Mapped[str | None] = mapped_column(String(32))
    master_category: Mapped[str | None] = mapped_column(String(64))
    sub_category: Mapped[str | None] = mapped_column(String(64))
    article_type: Mapped[str | None] = mapped_column(String(64))
    colour: Mapped[str | None] = mapped_column(String(64))
    season: Mapped[str | None] = mapped_column(String(32))
    year: Mapped[int | None] = mapped_column(Integer)
    usage: Mapped[str | None] = mapped_column(String(64))
    #: Path of a real photo under the catalog folder (``thumbnails/<id>.jpg``), or None.
    image: Mapped[str | None] = mapped_column(String(255))
    #: True when sizes, stock and prices were generated (seeded) rather than supplied by a source.
    generated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Sku(Base):
    """One size of a product, with its own price and stock.

    The id is ``<product id>/<size>``, so writers can address a SKU without reading it first.
    """

    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("product_id", "size"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    size: Mapped[str] = mapped_column(String(32))
    #: "letter", "EU", "waist", "age" or "one".
    size_system: Mapped[str] = mapped_column(String(16))
    #: Order of the size within its product (XS before S), so lists read naturally.
    position: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[float] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PriceHistory(Base):
    __tablename__ = "price_history"
    __table_args__ = (Index("ix_price_history_sku_at", "sku_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"))
    price: Mapped[float] = mapped_column(Money)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who set the price: "generated", "webhook", a feed's name, "admin", ...
    source: Mapped[str] = mapped_column(String(64))


class PriceAlert(Base):
    """A person's "tell me when it costs at most X": on one product, or on a search (query + filters)."""

    __tablename__ = "price_alerts"
    __table_args__ = (
        CheckConstraint("(product_id IS NULL) <> (query IS NULL)", name="product_xor_query"),
        Index("ix_price_alerts_product_active", "product_id", "active"),
        Index("ix_price_alerts_user_active", "user_id", "active"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    query: Mapped[str | None] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    threshold: Mapped[float] = mapped_column(Money)
    size: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    triggered_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The price the person last heard of (when the alert was set, or when it fired).
    last_price: Mapped[float | None] = mapped_column(Money, default=None)


class AlertNotification(Base):
    """What the agent tells the person next time: an alert fired at this price."""

    __tablename__ = "alert_notifications"
    __table_args__ = (Index("ix_alert_notifications_user_pending", "user_id", "delivered_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("price_alerts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    size: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[float] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookDelivery(Base):
    """Delivery ids already processed, so a replayed webhook call is refused."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updates: Mapped[int] = mapped_column(Integer, default=0)


# --- sizing --------------------------------------------------------------------------------------


class SizeChart(Base):
    """A size chart entered by an administrator: a brand's own, or an override of a house default.

    The chart itself (rows of body-measurement ranges) is one JSON document validated by
    ``tools.sizing.charts.SizeChart``; the columns are what it is looked up by.
    """

    __tablename__ = "size_charts"
    __table_args__ = (UniqueConstraint("brand_key", "department", "garment_group", "size_system"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Lower-cased, trimmed brand; "" for an override of the house default.
    brand_key: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(16))
    garment_group: Mapped[str] = mapped_column(String(16))
    size_system: Mapped[str] = mapped_column(String(16))
    chart: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: The administrator who saved it (no foreign key: the chart outlives the account).
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)


class FitFeedback(Base):
    """How a size of a product fitted a person, as they said ("too small", "fits", "too big")."""

    __tablename__ = "fit_feedback"
    __table_args__ = (
        Index("ix_fit_feedback_product_size", "product_id", "size"),
        CheckConstraint("fit IN ('small', 'fit', 'large')", name="fit_label"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    size: Mapped[str] = mapped_column(String(32))
    #: "small", "fit" or "large".
    fit: Mapped[str] = mapped_column(String(8))
    #: The size's nominal key girth minus the person's, in cm, when a chart and a measurement existed.
    offset_cm: Mapped[float | None] = mapped_column(Float, default=None)
    garment_group: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interaction(Base):
    """One thing a person did with a product (viewed, liked, tried on, bought...), for recommendations.

    Rows are the source of truth for personalisation: the knowledge graph's LIKED/BOUGHT edges,
    popularity and the ranker's history features are all derived from them.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_user_created", "user_id", "created_at"),
        Index("ix_interactions_product_kind", "product_id", "kind"),
        CheckConstraint(
            "kind IN ('view', 'like', 'unlike', 'dislike', 'add_to_cart', 'try_on', 'purchase')",
            name="interaction_kind",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    #: The occasion the person was shopping for when it happened, if known.
    occasion: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WardrobeItem(Base):
    """A garment the person owns, usually added from a photo and tagged automatically.

    Tags are columns (not a free-form blob) because outfits, filters and the wear log
    query them; ``auto_tags`` keeps what the tagger said, with confidences, so an edit
    by the person never loses the machine's original guess.
    """

    __tablename__ = "wardrobe_items"
    __table_args__ = (
        Index("ix_wardrobe_items_user_created", "user_id", "created_at"),
        CheckConstraint("source IN ('photo', 'manual', 'purchase')", name="wardrobe_source"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    #: The person's own words for it, as typed (the category guess reads them).
    caption: Mapped[str | None] = mapped_column(String(300), default=None)
    #: A catalogue article type ("Tshirts", "Casual Shoes"), so outfit rules apply to it.
    category: Mapped[str | None] = mapped_column(String(64), default=None)
    #: A catalogue colour name ("Navy Blue"), the dominant one.
    colour: Mapped[str | None] = mapped_column(String(32), default=None)
    #: Every dominant colour with its share: ``[{"name": "White", "share": 0.7}, ...]``.
    colours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pattern: Mapped[str | None] = mapped_column(String(16), default=None)
    seasons: Mapped[list[str]] = mapped_column(default=list)
    occasions: Mapped[list[str]] = mapped_column(default=list)
    #: The person's own labels ("gym", "gift from mum"); renamed and merged across items.
    tags: Mapped[list[str]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(16), default="photo")
    image_key: Mapped[str | None] = mapped_column(String(255), default=None)
    cutout_key: Mapped[str | None] = mapped_column(String(255), default=None)
    #: 64-bit perceptual hash as 16 hex digits (duplicate photos are refused).
    phash: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    #: What it cost, for cost per wear; in ``currency``.
    price: Mapped[float | None] = mapped_column(Numeric(12, 2, asdecimal=False), default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    auto_tags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WearLog(Base):
    """One day a wardrobe item was worn. One row per item and day, so logging twice is harmless."""

    __tablename__ = "wear_log"
    __table_args__ = (
        UniqueConstraint("item_id", "worn_on", name="uq_wear_log_item_day"),
        Index("ix_wear_log_user_day", "user_id", "worn_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("wardrobe_items.id", ondelete="CASCADE"), index=True)
    worn_on: Mapped[date] = mapped_column(Date)
    #: Items logged together share an outfit id (the calendar shows them as one outfit).
    outfit_id: Mapped[str | None] = mapped_column(String(36), default=None)
    occasion: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobColumns:
    """What every asynchronous job row holds (try-on pictures, generated images).

    The row is the job's source of truth; the event on its topic only wakes a worker. A worker
    claims a job by moving it to ``running`` and may only finish a job still ``running``.
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: The step a running job is in ("warping", "storing"), with its share of the work done.
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    error_message: Mapped[str | None] = mapped_column(String(500), default=None)
    result_key: Mapped[str | None] = mapped_column(String(255), default=None)
    timings_ms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


JOB_STATUSES = "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')"


class TryOnJob(JobColumns, Base):
    """One virtual try-on: a person photo dressed in one garment.

    ``id`` is derived from the person, the photo's digest and the garment, so the same request
    sent twice (a double tap, a retried HTTP call) finds the same job instead of computing it
    twice. Inputs are copied into the object store at submission, so a wardrobe item deleted
    meanwhile cannot break a queued job.
    """

    __tablename__ = "tryon_jobs"
    __table_args__ = (
        Index("ix_tryon_jobs_user_created", "user_id", "created_at"),
        Index("ix_tryon_jobs_status_updated", "status", "updated_at"),
        CheckConstraint(JOB_STATUSES, name="tryon_status"),
        CheckConstraint("kind IN ('upper', 'lower', 'dress')", name="tryon_kind"),
    )

    #: ``{"product_id": ...}`` or ``{"wardrobe_item_id": ...}``, with the garment's name.
    garment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kind: Mapped[str] = mapped_column(String(8))
    engine: Mapped[str] = mapped_column(String(40))
    person_key: Mapped[str] = mapped_column(String(255))
    garment_key: Mapped[str] = mapped_column(String(255))
    garment_mask_key: Mapped[str | None] = mapped_column(String(255), default=None)


class ImageJob(JobColumns, Base):
    """One generated outfit picture, made by a text-to-image server from a prompt built from the
    outfit's pieces. ``pieces`` keeps what the picture was meant to show, for the reply."""

    __tablename__ = "image_jobs"
    __table_args__ = (
        Index("ix_image_jobs_user_created", "user_id", "created_at"),
        Index("ix_image_jobs_status_updated", "status", "updated_at"),
        CheckConstraint(JOB_STATUSES, name="image_status"),
    )

    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    pieces: Mapped[list[str]] = mapped_column(default=list)


class SupportNote(Base):
    """Support's internal note on a conversation; never shown to the person.

    Kept when the author's account is deleted (``author_id`` becomes null) so the record of what
    was done for the person survives staff turnover; goes with the conversation's row.
    """

    __tablename__ = "support_notes"
    __table_args__ = (Index("ix_support_notes_session_created", "session_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
