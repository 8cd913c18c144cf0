from treffpunkt_shared.alembic_env import run

from treffpunkt_registration.models import metadata

run(metadata)
