from treffpunkt_shared.alembic_env import run

from treffpunkt_notify.models import metadata

run(metadata)
