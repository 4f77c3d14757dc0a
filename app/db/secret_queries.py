"""The deployment's signing secret, as migration 0007 made it."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db.models import DeploymentSecretRow


def stored_signing_secret(engine: Engine) -> str | None:
    """The secret every process on this database signs with; None if the row is missing."""
    with Session(engine) as session:
        return session.exec(select(DeploymentSecretRow.value)).first()
