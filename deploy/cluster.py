"""Three PostgreSQL 15 clusters on this machine: the national hub and two provinces (44, 11).

    python deploy/cluster.py up [--fresh]   create (initdb), start, migrate, replicate, serve
    python deploy/cluster.py down           stop the web servers, the workers and the clusters
    python deploy/cluster.py status         what runs, and each node's replication
    python deploy/cluster.py env NODE       the environment of a node (eval "$(… env p44)")
    python deploy/cluster.py stop-hub / start-hub    (the drills and the integration tests)

Everything lives under var/cluster/ (gitignored), every socket on 127.0.0.1: PostgreSQL on
5441 (hub), 5442 (44), 5443 (11), gunicorn on 8441, 8442, 8443. The clusters are created with
the Debian packaging's binaries (/usr/lib/postgresql/<15 or later>/bin: initdb, pg_ctl), run as the
`postgres` system user, with wal_level=logical; trust authentication on 127.0.0.1 only (a
production node uses scram-sha-256 and TLS between nodes).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "var" / "cluster"


def _pg_bin() -> Path:
    """The newest PostgreSQL of the Debian packaging (15 or later: publications' row filters and
    column lists), or XUEJI_PG_BIN."""
    if os.environ.get("XUEJI_PG_BIN"):
        return Path(os.environ["XUEJI_PG_BIN"])
    found = sorted(
        (int(p.name), p / "bin")
        for p in Path("/usr/lib/postgresql").glob("*")
        if p.name.isdigit() and int(p.name) >= 15
    )
    return found[-1][1] if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"

# name: (PostgreSQL port, XUEJI_NODE, web port, province)
NODES: dict[str, tuple[int, str, int, str]] = {
    "hub": (5441, "national", 8441, "00"),
    "p44": (5442, "province:44", 8442, "44"),
    "p11": (5443, "province:11", 8443, "11"),
}
PROVINCES = [name for name in NODES if name != "hub"]


def run(cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True, **kw):  # type: ignore[no-untyped-def]
    return subprocess.run(cmd, env=env, check=check, **kw)


def as_postgres(cmd: list[str], **kw):  # type: ignore[no-untyped-def]
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return run([*prefix, *cmd], **kw)


def secrets_file() -> dict[str, str]:
    path = BASE / "secrets.json"
    if not path.exists():
        BASE.mkdir(parents=True, exist_ok=True)
        data = {
            "secret_key": secrets.token_urlsafe(40),
            **{f"node_{NODES[n][3]}": secrets.token_urlsafe(32) for n in PROVINCES},
        }
        path.write_text(json.dumps(data))
        path.chmod(0o600)
    result: dict[str, str] = json.loads(path.read_text())
    return result


def node_env(name: str) -> dict[str, str]:
    port, node, web, province = NODES[name]
    keys = secrets_file()
    var = BASE / name / "var"
    var.mkdir(parents=True, exist_ok=True)
    env = {
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://xueji_app@127.0.0.1:{port}/xueji",
        "XUEJI_OWNER_DATABASE_URL": f"postgres://xueji_owner@127.0.0.1:{port}/xueji",
        "XUEJI_NODE": node,
        "XUEJI_VAR_DIR": str(var),
        # One secret key: the blind indexes' keys derived from it agree across the country (a
        # production deployment sets XUEJI_INDEX_KEY, the same on every node, instead).
        "XUEJI_SECRET_KEY": keys["secret_key"],
        "XUEJI_HUB_URL": f"http://127.0.0.1:{NODES['hub'][2]}",
        "XUEJI_HUB_TIMEOUT": "2",
        "XUEJI_SERVE_STATIC": "1",
        "XUEJI_TWO_FACTOR_REQUIRED": "0",
        "XUEJI_LOOKUP_LIMIT_PER_HOUR": "100000",
        "XUEJI_BIND": f"127.0.0.1:{web}",
        "XUEJI_DB_CONN_MAX_AGE": "60",
        "XUEJI_WEB_WORKERS": "2",
    }
    if name == "hub":
        env["XUEJI_HUB_NODE_SECRETS"] = json.dumps(
            {NODES[n][3]: keys[f"node_{NODES[n][3]}"] for n in PROVINCES}
        )
    else:
        env["XUEJI_NODE_SECRET"] = keys[f"node_{province}"]
    return {**{k: v for k, v in os.environ.items() if not k.startswith("XUEJI_")}, **env}


def data_dir(name: str) -> Path:
    return BASE / name / "data"


def superuser_dsn(name: str) -> str:
    return f"host=127.0.0.1 port={NODES[name][0]} dbname=xueji user=postgres"


def psql(name: str, sql: str, *, db: str = "xueji") -> str:
    out = run(
        [
            str(PG_BIN / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(NODES[name][0]),
            "-U",
            "postgres",
            "-d",
            db,
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtX",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def pg_running(name: str) -> bool:
    return (data_dir(name) / "postmaster.pid").exists() and run(
        [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(NODES[name][0]), "-q"],
        check=False,
    ).returncode == 0


def init(name: str) -> None:
    port = NODES[name][0]
    directory = data_dir(name)
    if (directory / "PG_VERSION").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    run(["chown", "-R", "postgres:postgres", str(BASE / name)]) if os.geteuid() == 0 else None
    as_postgres(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(directory),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        stdout=subprocess.DEVNULL,
    )
    archive = BASE / name / "wal-archive"
    archive.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        run(["chown", "postgres:postgres", str(archive)])
    conf = directory / "postgresql.conf"
    with conf.open("a") as f:
        f.write(
            "\n# xueji cluster (deploy/cluster.py)\n"
            f"port = {port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{BASE / name}'\n"
            "wal_level = logical\n"
            "max_wal_senders = 10\n"
            "max_replication_slots = 10\n"
            "max_logical_replication_workers = 4\n"
            "max_worker_processes = 12\n"
            "shared_buffers = 64MB\n"
            "max_connections = 60\n"
            "archive_mode = on\n"
            f"archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n"
            "wal_receiver_status_interval = 1s\n"
        )
    (directory / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        "host replication all 127.0.0.1/32 trust\n"
    )


def pg_start(name: str) -> None:
    if pg_running(name):
        return
    as_postgres(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data_dir(name)),
            "-l",
            str(BASE / name / "postgresql.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        stdout=subprocess.DEVNULL,
    )


def pg_stop(name: str, mode: str = "fast") -> None:
    if not (data_dir(name) / "postmaster.pid").exists():
        return
    as_postgres(
        [str(PG_BIN / "pg_ctl"), "-D", str(data_dir(name)), "-m", mode, "-w", "stop"],
        stdout=subprocess.DEVNULL,
        check=False,
    )


def database(name: str) -> None:
    psql(
        name,
        "DO $$ BEGIN CREATE ROLE xueji_owner LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
        "END $$; DO $$ BEGIN CREATE ROLE xueji_app LOGIN; EXCEPTION WHEN duplicate_object THEN "
        "NULL; END $$;",
        db="postgres",
    )
    if not psql(name, "SELECT 1 FROM pg_database WHERE datname = 'xueji'", db="postgres"):
        psql(name, "CREATE DATABASE xueji OWNER xueji_owner", db="postgres")


def xueji(name: str, *args: str, **kw):  # type: ignore[no-untyped-def]
    return run([str(PYTHON), "-m", "xueji.cli", *args], env=node_env(name), cwd=ROOT, **kw)


def _migrate_process(name: str) -> subprocess.Popen[bytes]:
    # As the owner on one connection: data migrations (geo's divisions) write through the
    # default alias, which the application's role cannot before the grants that follow each
    # migration, and which would wait for the owner's connection holding the table's lock.
    env = node_env(name)
    env["DATABASE_URL"] = env.pop("XUEJI_OWNER_DATABASE_URL")
    env["XUEJI_APP_DB_ROLE"] = "xueji_app"
    return subprocess.Popen(
        [str(PYTHON), "-m", "xueji.cli", "migrate", "--noinput"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def _empty(name: str) -> bool:
    return psql(name, "SELECT to_regclass('public.django_migrations') IS NULL") == "t"


def clone_schema(source: str, target: str) -> None:
    """The migrated database of `source` copied into the empty database of `target` (pg_dump
    and pg_restore: one code base, the same migrations on every node; much quicker than running
    them again on a machine of two cores)."""
    dump = subprocess.Popen(
        [
            str(PG_BIN / "pg_dump"),
            "-h",
            "127.0.0.1",
            "-p",
            str(NODES[source][0]),
            "-U",
            "postgres",
            "-d",
            "xueji",
            "-Fc",
        ],
        stdout=subprocess.PIPE,
    )
    restore = run(
        [
            str(PG_BIN / "pg_restore"),
            "-h",
            "127.0.0.1",
            "-p",
            str(NODES[target][0]),
            "-U",
            "postgres",
            "-d",
            "xueji",
            "--exit-on-error",
            "--single-transaction",
        ],
        stdin=dump.stdout,
        check=False,
    )
    assert dump.stdout is not None
    dump.stdout.close()
    if dump.wait() != 0 or restore.returncode != 0:
        raise SystemExit(f"copying the migrated database from {source} to {target} failed")


def migrate(*names: str) -> None:
    """Migrate the nodes. Nodes whose database is still empty: the first is migrated and the
    others get a copy of it (XUEJI_CLUSTER_CLONE=0: each migrated, all at once)."""
    empty = [name for name in names if _empty(name)]
    if os.environ.get("XUEJI_CLUSTER_CLONE", "1") != "0" and len(empty) > 1:
        first, copies = empty[0], empty[1:]
        if _migrate_process(first).wait() != 0:
            raise SystemExit(f"migrations failed on {first}")
        for name in copies:
            clone_schema(first, name)
        names = tuple(name for name in names if name not in empty)
    processes = {name: _migrate_process(name) for name in names}
    failed = [name for name, process in processes.items() if process.wait() != 0]
    if failed:
        raise SystemExit(f"migrations failed on {', '.join(failed)}")


def replicate() -> None:
    args = ["federation", "replicate", "--hub", superuser_dsn("hub")]
    for name in PROVINCES:
        args += ["--province", f"{NODES[name][3]}={superuser_dsn(name)}"]
    xueji("hub", *args)


def pidfile(name: str, what: str) -> Path:
    return BASE / name / f"{what}.pid"


def alive(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def serve(name: str) -> None:
    if alive(pidfile(name, "gunicorn")):
        return
    env = node_env(name)
    run(
        [str(PYTHON), "-m", "xueji.cli", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
    )
    log = open(BASE / name / "gunicorn.log", "a")  # noqa: SIM115
    process = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "config.wsgi"],
        env=env,
        cwd=ROOT / "src",
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pidfile(name, "gunicorn").write_text(str(process.pid))


def background(name: str, what: str, args: list[str]) -> None:
    if alive(pidfile(name, what)):
        return
    log = open(BASE / name / f"{what}.log", "a")  # noqa: SIM115
    process = subprocess.Popen(
        [str(PYTHON), "-m", "xueji.cli", *args],
        env=node_env(name),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pidfile(name, what).write_text(str(process.pid))


def worker_start(name: str) -> None:
    """The node's delivery process (inbox, pending reservations, checkpoints to the hub)."""
    background(name, "worker", ["federation", "worker"])


def sealer_start(name: str) -> None:
    """The audit trail's sealer: a signed checkpoint every minute (forwarded to the hub)."""
    background(name, "sealer", ["audit", "seal", "--every"])


def stop_process(name: str, what: str, sig: int = signal.SIGTERM) -> None:
    pid = alive(pidfile(name, what))
    if pid is None:
        return
    os.kill(pid, sig)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        with contextlib.suppress(ChildProcessError):  # reap it when it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    pidfile(name, what).unlink(missing_ok=True)


def wait_http(name: str, timeout: float = 60) -> None:
    import urllib.request

    url = f"http://127.0.0.1:{NODES[name][2]}/readyz"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} did not become ready at {url}")


def up(fresh: bool = False) -> None:
    if fresh:
        down()
        shutil.rmtree(BASE, ignore_errors=True)
    BASE.mkdir(parents=True, exist_ok=True)
    secrets_file()
    for name in NODES:
        init(name)
        pg_start(name)
        database(name)
    migrate(*NODES)
    # Once: dropping and creating the subscriptions again would copy the tables' rows a second
    # time (and lose what the dropped slots had not sent).
    if psql("hub", "SELECT count(*) FROM pg_subscription") == "0":
        replicate()
    for name in NODES:
        serve(name)
        worker_start(name)
        sealer_start(name)
    for name in NODES:
        wait_http(name)
    print("cluster up:")
    for name, (port, node, web, _p) in NODES.items():
        print(f"  {name:4} {node:12} postgres 127.0.0.1:{port}  web http://127.0.0.1:{web}/")


def down() -> None:
    for name in NODES:
        stop_process(name, "sealer")
        stop_process(name, "worker")
        stop_process(name, "gunicorn")
    for name in NODES:
        pg_stop(name)


def status() -> None:
    for name, (port, node, _web, _p) in NODES.items():
        pg = "up" if pg_running(name) else "down"
        web_pid = alive(pidfile(name, "gunicorn"))
        worker_pid = alive(pidfile(name, "worker"))
        sealer_pid = alive(pidfile(name, "sealer"))
        print(
            f"{name:4} {node:12} postgres:{port} {pg}  gunicorn:{web_pid}  worker:{worker_pid}"
            f"  sealer:{sealer_pid}"
        )
        if pg == "up":
            print(
                "      subscriptions:",
                psql(
                    name,
                    "SELECT string_agg(subname || ' ' || coalesce(last_msg_receipt_time::text, "
                    "'-'), '; ') FROM pg_stat_subscription WHERE relid IS NULL",
                ),
            )


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "status"
    if command == "up":
        up(fresh="--fresh" in argv)
    elif command == "down":
        down()
    elif command == "status":
        status()
    elif command == "env":
        env = node_env(argv[1])
        for key in sorted(env):
            if key.startswith(("XUEJI_", "DATABASE_URL", "PYTHONPATH", "DJANGO_")):
                print(f"export {key}={json.dumps(env[key])}")
    elif command == "stop-hub":
        stop_process("hub", "worker")
        stop_process("hub", "gunicorn")
        pg_stop("hub")
    elif command == "start-hub":
        pg_start("hub")
        serve("hub")
        worker_start("hub")
        sealer_start("hub")  # its sealer gave up while the database was away
        wait_http("hub")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
