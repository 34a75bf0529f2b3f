"""The operational store: users, grants, sessions, throttling, audit, visit marks, rate-limit counters.

SQLAlchemy Core; SQLite by default, PostgreSQL when several hosts serve. No Flask, no Dash.
"""
