"""Relational store: SQLAlchemy 2 over SQLite (embedded) or PostgreSQL (psycopg 3)."""

from storage.sql.database import Database, build_database
from storage.sql.models import Base

__all__ = ["Base", "Database", "build_database"]
