"""``python -m treffpunkt_agenda create-admin``: the first administrator, and weak passwords refused."""
from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa

from treffpunkt_agenda.admin_command import create_admin
from treffpunkt_agenda.models import organisers


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(organisers.c.email, organisers.c.role, organisers.c.password_hash)).all()


def test_the_command_creates_an_administrator_who_can_sign_in(settings, engine, client):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "ADMIN_PASSWORD": "Landesnetzwerk-2016"}
    done = subprocess.run([sys.executable, "-m", "treffpunkt_agenda", "create-admin", "--email", "Ada@Example.org",
                           "--name", "Ada Administratorin"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Landesnetzwerk-2016" not in done.stdout + done.stderr
    [(email, role, password_hash)] = rows(engine)
    assert (email, role) == ("ada@example.org", "administrator") and password_hash.startswith("scrypt:")
    r = client.post("/api/session", json={"email": "ada@example.org", "password": "Landesnetzwerk-2016"})
    assert r.status_code == 200 and r.json["organiser"]["role"] == "administrator"


def test_a_password_under_twelve_characters_is_refused_and_nothing_is_created(settings, engine, capsys):
    code = create_admin(["--email", "ada@example.org", "--name", "Ada"], settings.database_url,
                        {"ADMIN_PASSWORD": "elf-Zeichen"})
    assert code == 2 and "mindestens 12 Zeichen" in capsys.readouterr().err
    assert rows(engine) == []


def test_the_password_is_asked_for_twice_when_not_in_the_environment(settings, engine):
    answers = iter(["Landesnetzwerk-2016", "Landesnetzwerk-2017"])
    assert create_admin(["--email", "ada@example.org", "--name", "Ada"], settings.database_url, {},
                        prompt=lambda _: next(answers)) == 2
    answers = iter(["Landesnetzwerk-2016"] * 2)
    assert create_admin(["--email", "ada@example.org", "--name", "Ada"], settings.database_url, {},
                        prompt=lambda _: next(answers)) == 0
    assert len(rows(engine)) == 1


def test_an_existing_account_is_not_overwritten(settings, engine):
    args = ["--email", "ada@example.org", "--name", "Ada"]
    env = {"ADMIN_PASSWORD": "Landesnetzwerk-2016"}
    assert create_admin(args, settings.database_url, env) == 0
    before = rows(engine)
    assert create_admin(args, settings.database_url, {"ADMIN_PASSWORD": "Anderes-Passwort-1"}) == 1
    assert create_admin(args + ["--existing-ok"], settings.database_url, {"ADMIN_PASSWORD": "Anderes-Passwort-1"}) == 0
    assert rows(engine) == before
