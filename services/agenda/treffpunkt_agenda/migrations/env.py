from treffpunkt_shared.alembic_env import run

from treffpunkt_agenda.models import metadata

run(metadata)
