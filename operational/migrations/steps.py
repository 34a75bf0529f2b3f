"""Steps the migrations share."""

import sqlalchemy as sa
from alembic import op


def create_table_if_missing(name: str, *columns: sa.Column | sa.Constraint) -> bool:
    """Make the table unless the store has it already: a store made before migrations (by
    ``create_all`` at start-up) holds every table the app then had, and no record of it.
    True if it was made (its indexes are then the caller's to make)."""
    if sa.inspect(op.get_bind()).has_table(name):
        return False
    op.create_table(name, *columns)
    return True
