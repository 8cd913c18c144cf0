"""``python -m treffpunkt_agenda create-admin --email … --name …``: the first administrator account.

The password comes from ADMIN_PASSWORD (for scripts; it is never printed) or is asked for twice on the
terminal. Passwords shorter than 12 characters are refused.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Mapping

import sqlalchemy as sa

from treffpunkt_shared.db import make_engine

from . import accounts

USAGE = "python -m treffpunkt_agenda create-admin --email ADDRESS --name NAME [--existing-ok]"
NOT_SET_UP = ("Die Datenbank ist nicht eingerichtet: erst `python -m treffpunkt_agenda migrate`. / "
              "The database is not set up: run `python -m treffpunkt_agenda migrate` first.")


def _ask_password(prompt: Callable[[str], str]) -> str | None:
    first = prompt("Passwort / password: ")
    if prompt("Noch einmal / again: ") != first:
        print("Die Passwörter stimmen nicht überein. / The passwords do not match.", file=sys.stderr)
        return None
    return first


def create_admin(argv: list[str], database_url: str, env: Mapping[str, str],
                 prompt: Callable[[str], str] = getpass.getpass) -> int:
    parser = argparse.ArgumentParser(prog="python -m treffpunkt_agenda create-admin",
                                     description="Legt ein Administrator-Konto an. / Creates an administrator.")
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--existing-ok", action="store_true",
                        help="exit 0 without changes if the account exists (for provisioning scripts)")
    args = parser.parse_args(argv)
    password = env.get("ADMIN_PASSWORD") or _ask_password(prompt)
    if password is None:
        return 2
    problem = accounts.password_problem(password)
    if problem:
        print(f"{problem} / The password must have {accounts.MIN_PASSWORD_LENGTH} to "
              f"{accounts.MAX_PASSWORD_LENGTH} characters.", file=sys.stderr)
        return 2
    engine = make_engine(database_url)
    try:
        with engine.begin() as tx:
            account = accounts.create_account(tx, email=args.email, name=args.name, role=accounts.ADMINISTRATOR,
                                              password=password)
    except accounts.AccountExists:
        if args.existing_ok:
            print(f"Konto besteht bereits / account exists: {accounts.normalise_email(args.email)}")
            return 0
        print(f"Mit dieser E-Mail-Adresse gibt es bereits ein Konto. / An account with this email address "
              f"exists: {accounts.normalise_email(args.email)}", file=sys.stderr)
        return 1
    except sa.exc.ProgrammingError:
        print(NOT_SET_UP, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"Administrator angelegt / administrator created: {account['email']} ({account['id']})")
    return 0
