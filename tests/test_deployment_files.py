"""The deployment files (docker-compose.yml, the Dockerfiles, deploy/rabbitmq/definitions.json) are
checked by reading them: no Docker engine, broker or database is needed."""
from __future__ import annotations

import importlib
import importlib.util
import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy.engine import make_url

from treffpunkt_shared.messaging.topology import SUBSCRIPTIONS, Topology

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEFINITIONS_FILE = ROOT / "deploy" / "rabbitmq" / "definitions.json"
EXPORTER = ROOT / "deploy" / "rabbitmq" / "export_definitions.py"

APPS = ("agenda", "registration", "notify")
ROLES = ("migrate", "web", "worker")
INFRASTRUCTURE = ("rabbitmq", "postgres", "mailpit")
WEB_PORTS = {"agenda": 8001, "registration": 8002, "notify": 8003}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
# Read by Python or the container runtime rather than by a service's config.py.
RUNTIME_VARIABLES = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "TZ"}


# ------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def app_services(services) -> dict:
    return {name: spec for name, spec in services.items() if _app_of(name)}


def _app_of(name: str) -> str | None:
    app, _, role = name.rpartition("-")
    return app if app in APPS and role in ROLES else None


def is_one_shot(name: str, spec: dict) -> bool:
    return name.endswith("-migrate") or str(spec.get("restart", "")) == "no"


def long_running(services) -> dict:
    return {name: spec for name, spec in services.items() if not is_one_shot(name, spec)}


def environment(spec: dict) -> dict:
    env = spec.get("environment") or {}
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def depends_on(spec: dict) -> dict:
    deps = spec.get("depends_on") or {}
    if isinstance(deps, list):  # the short form means condition: service_started
        deps = {name: {"condition": "service_started"} for name in deps}
    return deps


def command(spec: dict) -> list[str]:
    cmd = spec.get("command")
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd or [])


def published_ports(spec: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) for each entry of ``ports``."""
    result = []
    for entry in spec.get("ports") or []:
        if isinstance(entry, dict):
            result.append((entry.get("host_ip", ""), int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].split(":")
        if len(parts) == 1:
            raise AssertionError(f"port {entry!r} publishes a random host port; give it a fixed one")
        host_ip = parts[0] if len(parts) == 3 else ""
        result.append((host_ip, int(parts[-2]), int(parts[-1])))
    return result


def config_variables(app: str) -> set[str]:
    """The environment variables a service's config.py reads."""
    source = (ROOT / "services" / app / f"treffpunkt_{app}" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'env_\w+\(\s*env,\s*"([A-Z0-9_]+)"', source))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, rest = full.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    assert not pending, f"{path} ends in a continuation line"
    return instructions


def exec_form(arguments: str) -> list[str]:
    assert arguments.startswith("["), f"use the exec form (a JSON array), not {arguments!r}"
    return json.loads(arguments)


def final_stage(instructions):
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


# ------------------------------------------------------------------ docker-compose.yml

def test_the_compose_file_has_infrastructure_and_three_containers_per_app(services):
    expected = set(INFRASTRUCTURE) | {f"{app}-{role}" for app in APPS for role in ROLES}
    assert expected <= set(services), f"missing: {sorted(expected - set(services))}"


def test_every_service_has_an_image_or_a_build(services):
    for name, spec in services.items():
        assert spec.get("image") or spec.get("build"), f"{name} has neither image nor build"


def test_infrastructure_uses_the_agreed_images(services):
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    assert services["postgres"]["image"].split(":")[1].startswith("16")
    assert services["mailpit"]["image"].split(":")[0] == "axllent/mailpit"


def test_every_app_container_is_built_from_its_own_dockerfile_in_the_repository_root_context(services):
    for name, spec in app_services(services).items():
        app = _app_of(name)
        build = spec.get("build")
        assert isinstance(build, dict), f"{name} must build its image (context and dockerfile)"
        context = (ROOT / build["context"]).resolve()
        assert context == ROOT, f"{name} builds in {context}, not the repository root (it needs shared/)"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        assert dockerfile == ROOT / "services" / app / "Dockerfile", f"{name} builds from another service's image"


def test_every_build_context_and_dockerfile_exists_on_disk(services):
    for name, spec in services.items():
        build = spec.get("build")
        if build is None:
            continue
        context = ROOT / (build if isinstance(build, str) else build["context"])
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        assert (context / dockerfile).is_file(), f"{name}: {context / dockerfile} does not exist"


def test_every_app_service_is_given_the_broker_and_its_own_database(services):
    for name, spec in app_services(services).items():
        app, env = _app_of(name), environment(spec)
        assert "DATABASE_URL" in env, f"{name} has no DATABASE_URL"
        url = make_url(env["DATABASE_URL"])
        assert url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg", name
        assert url.host == "postgres" and url.database == f"treffpunkt_{app}", f"{name}: {env['DATABASE_URL']}"
        if not name.endswith("-migrate"):  # migrating needs only the database
            assert "AMQP_URL" in env, f"{name} has no AMQP_URL"
            amqp = urlsplit(env["AMQP_URL"])
            assert amqp.scheme == "amqp" and amqp.hostname == "rabbitmq", f"{name}: {env['AMQP_URL']}"


def test_every_app_service_uses_the_same_broker_and_namespace(services):
    apps = {name: environment(spec) for name, spec in app_services(services).items() if not name.endswith("-migrate")}
    assert len({env["AMQP_URL"] for env in apps.values()}) == 1, "services on different brokers never meet"
    namespaces = {env.get("TREFFPUNKT_NAMESPACE") for env in apps.values()}
    assert namespaces == {"treffpunkt"}, f"services in different namespaces never meet: {namespaces}"


def test_every_app_gets_the_one_session_secret_from_the_environment_with_no_default(services):
    for app in APPS:
        secret = environment(services[f"{app}-web"]).get("SESSION_SECRET", "")
        # ${VAR:?message} makes compose refuse to start without it; a default would be a known signing key.
        assert secret.startswith("${SESSION_SECRET:?") and secret.endswith("}"), \
            f"{app}-web: SESSION_SECRET must come from the environment, without a default"


def test_registration_and_notify_send_anonymous_browsers_to_the_agendas_sign_in_page(services):
    agenda = environment(services["agenda-web"])["PUBLIC_BASE_URL"]
    for app in ("registration", "notify"):
        assert environment(services[f"{app}-web"]).get("SIGN_IN_URL") == f"{agenda}/anmelden", app


def test_notify_sends_mail_to_mailpit(services):
    for role in ("web", "worker"):
        env = environment(services[f"notify-{role}"])
        assert env.get("SMTP_HOST") == "mailpit", f"notify-{role}: SMTP_HOST"
        assert int(env.get("SMTP_PORT", 0)) == 1025, f"notify-{role}: SMTP_PORT"
    assert 8025 in [container for _, _, container in published_ports(services["mailpit"])]


def test_every_environment_variable_given_to_an_app_is_one_its_code_reads(services):
    for name, spec in app_services(services).items():
        unknown = set(environment(spec)) - config_variables(_app_of(name)) - RUNTIME_VARIABLES
        assert not unknown, f"{name} is given variables its config.py never reads (typo?): {sorted(unknown)}"


def test_every_long_running_service_has_a_healthcheck(services):
    for name, spec in long_running(services).items():
        check = spec.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        test = check["test"]
        if isinstance(test, list):
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, f"{name}: {test!r}"


def test_the_web_healthchecks_ask_the_health_endpoint_and_the_infrastructure_checks_are_the_agreed_ones(services):
    for app in APPS:
        assert "/healthz" in " ".join(services[f"{app}-web"]["healthcheck"]["test"]), f"{app}-web"
    assert services["rabbitmq"]["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


def test_migrations_are_one_shot_and_everything_else_restarts(services):
    for name, spec in services.items():
        if name.endswith("-migrate"):
            assert str(spec.get("restart", "no")) == "no", f"{name} must run once, not restart"
        else:
            assert spec.get("restart") in ("unless-stopped", "always", "on-failure"), f"{name} is not restarted"


def test_every_app_service_waits_for_its_dependencies_to_be_healthy(services):
    for name, spec in app_services(services).items():
        app, deps = _app_of(name), depends_on(spec)
        assert deps, f"{name} has no depends_on"
        for dependency, options in deps.items():
            assert dependency in services, f"{name} depends on {dependency}, which does not exist"
            condition = options.get("condition", "service_started")
            assert condition in CONDITIONS, f"{name} → {dependency}: unknown condition {condition!r}"
            target = services[dependency]
            if condition == "service_healthy":
                assert (target.get("healthcheck") or {}).get("test"), \
                    f"{name} waits for {dependency} to be healthy, but it has no healthcheck"
            if condition == "service_completed_successfully":
                assert is_one_shot(dependency, target), f"{name} waits for {dependency} to finish, but it never does"
            if dependency in INFRASTRUCTURE:
                assert condition == "service_healthy", f"{name} must wait for {dependency} to be healthy"
            if dependency.endswith("-migrate"):
                assert condition == "service_completed_successfully", f"{name} must wait for {dependency} to finish"
        assert deps.get("postgres"), f"{name} does not wait for postgres"
        if not name.endswith("-migrate"):
            assert deps.get(f"{app}-migrate"), f"{name} may start before {app}'s database is migrated"
            assert deps.get("rabbitmq"), f"{name} does not wait for rabbitmq"
    assert depends_on(services["notify-worker"]).get("mailpit"), "notify-worker sends mail before mailpit is up"


def test_no_service_depends_on_itself_or_in_a_cycle(services):
    def visit(name, path):
        assert name not in path, f"dependency cycle: {' → '.join(path + [name])}"
        for dependency in depends_on(services[name]):
            visit(dependency, path + [name])

    for name in services:
        visit(name, [])


def test_workers_and_migrations_run_their_commands_and_the_web_containers_the_image_default(services):
    for app in APPS:
        for role in ("migrate", "worker"):
            assert command(services[f"{app}-{role}"]) == ["python", "-m", f"treffpunkt_{app}", role], f"{app}-{role}"
            assert importlib.util.find_spec(f"treffpunkt_{app}.__main__"), f"python -m treffpunkt_{app} cannot run"
        assert not command(services[f"{app}-web"]), f"{app}-web should run the image's gunicorn CMD"


def test_the_published_host_ports_do_not_collide(services):
    wildcard = ("", "0.0.0.0")
    taken: list[tuple[str, str, int]] = []
    for name, spec in services.items():
        for host_ip, host_port, _ in published_ports(spec):
            for other, other_ip, other_port in taken:
                clash = host_port == other_port and (host_ip == other_ip or host_ip in wildcard or other_ip in wildcard)
                assert not clash, f"{name} and {other} both publish host port {host_port}"
            taken.append((name, host_ip, host_port))


def test_each_web_container_publishes_port_8000_on_its_public_base_url_port(services):
    for app, port in WEB_PORTS.items():
        spec = services[f"{app}-web"]
        assert [(host, container) for _, host, container in published_ports(spec)] == [(port, 8000)], f"{app}-web"
        assert urlsplit(environment(spec)["PUBLIC_BASE_URL"]).port == port, f"{app}-web links to the wrong port"
    registration_url = environment(services["registration-web"])["PUBLIC_BASE_URL"]
    for role in ("web", "worker"):
        assert environment(services[f"notify-{role}"])["REGISTRATION_BASE_URL"] == registration_url, \
            f"notify-{role}: the links in emails must point at registration"


def test_postgres_trusts_local_connections_and_creates_the_three_databases(compose, services):
    postgres = services["postgres"]
    assert environment(postgres).get("POSTGRES_HOST_AUTH_METHOD") == "trust"
    scripts = [compose["configs"][c["source"]]["content"] for c in postgres.get("configs", [])
               if c["target"].startswith("/docker-entrypoint-initdb.d/")]
    created = set(re.findall(r"CREATE DATABASE\s+\"?(\w+)", "\n".join(scripts), flags=re.IGNORECASE))
    assert created == {f"treffpunkt_{app}" for app in APPS}


# ------------------------------------------------------------------ Dockerfiles

@pytest.mark.parametrize("app", APPS)
def test_each_dockerfile_installs_the_pinned_packages_without_editable_mode(app):
    dockerfile = ROOT / "services" / app / "Dockerfile"
    assert dockerfile.is_file()
    instructions = dockerfile_instructions(dockerfile)
    assert "requirements/constraints.txt" in dockerfile.read_text(encoding="utf-8")
    installs = [args for keyword, args in instructions if keyword == "RUN" and "pip install" in args]
    assert installs, "nothing is pip-installed"
    for args in installs:
        words = shlex.split(args)
        assert "-e" not in words and "--editable" not in words, "the image must not depend on the source tree"
        assert "-c" in words and words[words.index("-c") + 1] == "requirements/constraints.txt", args
        assert "./shared" in words and f"./services/{app}" in words, args


@pytest.mark.parametrize("app", APPS)
def test_each_dockerfile_is_based_on_python_3_11_slim(app):
    froms = [args.split()[0] for keyword, args in dockerfile_instructions(ROOT / "services" / app / "Dockerfile")
             if keyword == "FROM"]
    assert froms and all(image == "python:3.11-slim" for image in froms), froms


@pytest.mark.parametrize("app", APPS)
def test_each_dockerfile_copies_only_paths_that_exist_in_the_repository_root(app):
    for keyword, args in dockerfile_instructions(ROOT / "services" / app / "Dockerfile"):
        if keyword not in ("COPY", "ADD") or "--from=" in args:
            continue
        sources = [word for word in shlex.split(args) if not word.startswith("--")][:-1]
        assert sources, args
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the build context (the repository root)"
        assert not any(s.startswith("services/") and not s.startswith(f"services/{app}/") for s in sources), args


@pytest.mark.parametrize("app", APPS)
def test_each_image_runs_as_a_non_root_user(app):
    users = [args for keyword, args in final_stage(dockerfile_instructions(ROOT / "services" / app / "Dockerfile"))
             if keyword == "USER"]
    assert users, "the final stage never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users[-1]


@pytest.mark.parametrize("app", APPS)
def test_each_image_has_a_healthcheck_that_asks_healthz_on_the_port_gunicorn_binds(app):
    stage = final_stage(dockerfile_instructions(ROOT / "services" / app / "Dockerfile"))
    checks = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert len(checks) == 1 and "NONE" not in checks[0].upper().split(), "the image needs one HEALTHCHECK"
    assert "urllib" in checks[0] and "/healthz" in checks[0]
    cmd = exec_form([args for keyword, args in stage if keyword == "CMD"][-1])
    bind = cmd[cmd.index("--bind") + 1]
    assert bind.startswith("0.0.0.0:"), "gunicorn must listen on every interface in a container"
    assert f":{bind.rsplit(':', 1)[1]}/healthz" in checks[0]


@pytest.mark.parametrize("app", APPS)
def test_each_image_serves_its_app_with_gunicorn_by_default(app):
    stage = final_stage(dockerfile_instructions(ROOT / "services" / app / "Dockerfile"))
    cmd = exec_form([args for keyword, args in stage if keyword == "CMD"][-1])
    assert cmd == ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "gthread",
                   "--threads", "4", f"treffpunkt_{app}.app:create_app()"]
    assert callable(getattr(importlib.import_module(f"treffpunkt_{app}.app"), "create_app", None))


# ------------------------------------------------------------------ deploy/rabbitmq/definitions.json

def _canonical(definitions: dict) -> dict:
    """Order-free form: kombu keeps bindings in a set, so list order differs between processes."""
    def key(item):
        return json.dumps(item, sort_keys=True)
    return {section: sorted(definitions[section], key=key) for section in ("exchanges", "queues", "bindings")}


@pytest.fixture(scope="module")
def definitions() -> dict:
    return json.loads(DEFINITIONS_FILE.read_text(encoding="utf-8"))


def test_the_rabbitmq_definitions_match_the_topology_the_code_declares(definitions):
    assert set(definitions) == {"exchanges", "queues", "bindings"}
    assert _canonical(definitions) == _canonical(Topology().definitions()), \
        "deploy/rabbitmq/definitions.json is stale: run .venv/bin/python deploy/rabbitmq/export_definitions.py"


def test_the_rabbitmq_definitions_file_is_exactly_what_the_exporter_writes():
    spec = importlib.util.spec_from_file_location("export_definitions", EXPORTER)
    exporter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exporter)
    assert DEFINITIONS_FILE.read_text(encoding="utf-8") == exporter.render(), \
        "definitions.json was edited by hand: run .venv/bin/python deploy/rabbitmq/export_definitions.py"
    assert exporter.main(["--check"]) == 0


def test_every_consumed_quorum_queue_has_a_delivery_limit_and_a_dead_letter_exchange(definitions):
    exchanges = {exchange["name"] for exchange in definitions["exchanges"]}
    topology = Topology()
    # The .dead queues are where dead letters end: nothing consumes them automatically, so they need
    # no delivery limit, and a dead-letter exchange of their own would only send letters round in circles.
    parking = {topology.dead_letter_queue_name(service) for service in SUBSCRIPTIONS}
    quorum = [q for q in definitions["queues"] if q["arguments"].get("x-queue-type") == "quorum"]
    consumed = [q for q in quorum if q["name"] not in parking]
    assert {q["name"] for q in consumed} == {topology.queue_name(service) for service in SUBSCRIPTIONS}
    for queue in consumed:
        arguments = queue["arguments"]
        assert isinstance(arguments.get("x-delivery-limit"), int) and arguments["x-delivery-limit"] > 0, queue["name"]
        assert arguments.get("x-dead-letter-exchange") in exchanges, queue["name"]


def test_every_dead_letter_route_in_the_definitions_reaches_a_queue(definitions):
    queues = {queue["name"] for queue in definitions["queues"]}
    routes = {(b["source"], b["routing_key"]): b["destination"] for b in definitions["bindings"]
              if b["destination_type"] == "queue"}
    for queue in definitions["queues"]:
        arguments = queue["arguments"]
        if "x-dead-letter-exchange" not in arguments:
            continue
        target = routes.get((arguments["x-dead-letter-exchange"], arguments.get("x-dead-letter-routing-key")))
        assert target in queues, f"{queue['name']} dead-letters into nowhere"
    for queue in queues:
        assert any(destination == queue for destination in routes.values()), f"no binding reaches {queue}"
