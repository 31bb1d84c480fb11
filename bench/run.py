"""The benchmark of SPEC 8: the mint and /get-token against a bare and a same-work baseline.

Under the same gunicorn settings on loopback, in one run, round after round:

- ``bare Flask + PyJWT`` (bench/bare.py): signs the same header and claims, nothing else;
- ``same work, Core`` (bench/same_work.py): the bearer key looked up by its SHA-256, the same
  signature, one row inserted and committed per request, in plain SQLAlchemy Core;
- ``mint``: Token Console's ``POST /api/v1/tokens`` (authenticated, rate-limited, recorded,
  audited) and ``/get-token`` (the drop-in), on the same server;
- with ``BENCH_BEFORE=/path/to/other/checkout``, the same two endpoints of that checkout too
  ("before"), so a change is measured against its base in the same run.

First on SQLite, then on PostgreSQL when ``BENCH_POSTGRES_URL`` names a database (each app
gets a schema of its own there, dropped and created afresh). Only 2xx answers count. Prints
throughput, p50/p99 latency, server CPU per answer and the ratios to both baselines; bars:
mint >= 0.5 of bare, >= 0.8 of same work, p99 < 25 ms.

    make bench                      # defaults below
    BENCH_SECONDS=20 BENCH_CONNECTIONS=16 .venv/bin/python bench/run.py
    BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Empty: the workers and threads of gunicorn.conf.py, for every app alike.
WORKERS = os.environ.get("BENCH_WORKERS", "")
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "")
BEFORE = os.environ.get("BENCH_BEFORE", "")
# Comma-separated subset of "sqlite,postgresql" (default: both when a PostgreSQL URL is given).
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql")
SECRET = "b" * 64
APIKEY = "bench-api-key"
BODY = {"permissions": ["allow_join"], "roomId": "bench-room"}
BARE, SAME, MINT, GET_TOKEN = ("bare Flask + PyJWT", "same work, Core", "mint",
                               "/get-token")


@dataclass(frozen=True)
class Result:
    name: str
    requests_2xx: int
    non_2xx: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # CPU time of the gunicorn master and workers per answer (0 when unknown)

    @property
    def throughput(self) -> float:
        return self.requests_2xx / self.seconds


def _cpu_seconds(master: int) -> float:
    """User + system CPU of a gunicorn master and its workers so far (Linux /proc; else 0)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        ticks = 0
        for pid in [str(master), *children]:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0.0
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(env: dict[str, str], root: Path) -> str:
    """Migrate the empty database of ``env``, store the key and a client above the load."""
    script = (
        "from webapp import create_app\n"
        "from webapp.extensions import db\n"
        "from webapp.services import api_clients, videosdk_keys\n"
        "from flask_migrate import upgrade\n"
        "import pathlib\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(directory=str(pathlib.Path('webapp/migrations')))\n"
        f"    key = videosdk_keys.add_key('bench', {APIKEY!r}, {SECRET!r})\n"
        "    client, plaintext = api_clients.create_client('bench', ['tokens:mint'],\n"
        "        key_labels=['bench'], rate_limit='100000000/minute')\n"
        "    db.session.commit()\n"
        "    print(plaintext)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def serve(target: str, port: int, env: dict[str, str], log: Path,
          root: Path = ROOT) -> subprocess.Popen[bytes]:
    """Start gunicorn with the repository's settings, quiet access log."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "--config", "gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
        *(["--workers", WORKERS] if WORKERS else []), target,
    ]
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=handle, stderr=handle)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):  # noqa: S310
                return process
        except URLError as error:
            if getattr(error, "code", None) == 404:  # the bare app has no /healthz
                return process
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"{target} did not start; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise ValueError(f"wrk printed a latency this cannot read: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0,
                            "h": 3600000.0}[unit]


def load(name: str, url: str, script: Path, master: int) -> Result:
    """Warm up, then run wrk for SECONDS against ``url``; parse its report."""
    base = ["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-s", str(script)]
    subprocess.run([*base, "-d", f"{WARMUP}s", url], check=True, capture_output=True)
    cpu_before = _cpu_seconds(master)
    out = subprocess.run([*base, "-d", f"{SECONDS}s", "--latency", url], check=True,
                         capture_output=True, text=True).stdout
    cpu = _cpu_seconds(master) - cpu_before
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    match = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    duration = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match.group(2)]  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    # Anchored: a "+/- Stdev" column such as "72.50%" also ends in "50%".
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    answered = total - non_2xx
    return Result(name, answered, non_2xx, duration, p50, p99,
                  cpu * 1e6 / answered if answered else 0.0)


def _post(port: int, client_key: str | None) -> dict[str, object]:
    request = Request(f"http://127.0.0.1:{port}/api/v1/tokens", data=json.dumps(BODY).encode(),
                      method="POST", headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {client_key}"}
                                                 if client_key else {})})
    with urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        answer: dict[str, object] = json.loads(response.read())
        return answer


def _decoded(token: str) -> tuple[dict[str, object], dict[str, object]]:
    def part(segment: str) -> dict[str, object]:
        decoded: dict[str, object] = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return decoded

    header, payload, _ = token.split(".")
    return part(header), part(payload)


def same_work(ports: dict[str, int], keys: dict[str, str]) -> str:
    """Every app signs the same header and claims, in the same order, and answers alike."""
    answers = {name: _post(ports[name], keys.get(name)) for name in ports}
    reference = answers[BARE]
    ref_header, ref_claims = _decoded(str(reference["token"]))
    strip = {"iat", "exp"}
    for name, answer in answers.items():
        header, claims = _decoded(str(answer["token"]))
        if (header != ref_header or list(claims) != list(ref_claims)
                or {k: v for k, v in claims.items() if k not in strip}
                != {k: v for k, v in ref_claims.items() if k not in strip}
                or sorted(answer) != sorted(reference)):
            raise SystemExit(f"{name} does not sign what the bare app signs:\n{answer}\n"
                             f"{reference}")
    return f"header {ref_header}, claims {list(ref_claims)}"


def audited(env: dict[str, str], root: Path) -> int:
    """How many successful mints the audit trail of the app in ``root`` holds."""
    # Since migration 0006 a mint's line is its issued-token row; an older checkout (with
    # BENCH_BEFORE) keeps every line in audit_events.
    script = (
        "from webapp import create_app\n"
        "from webapp.extensions import db\n"
        "from webapp.models import AuditEvent\n"
        "from sqlalchemy import func, select\n"
        "try:\n"
        "    from webapp.services.audit_trail import AuditFilter, trail_query\n"
        "except ImportError:\n"
        "    trail_query = None\n"
        "with create_app().app_context():\n"
        "    if trail_query is not None:\n"
        "        lines = trail_query(AuditFilter(action='token.minted', outcome='success'))\n"
        "        query = select(func.count()).select_from(lines.order_by(None).subquery())\n"
        "    else:\n"
        "        query = select(func.count()).select_from(AuditEvent).where(\n"
        "            AuditEvent.action == 'token.minted', AuditEvent.outcome == 'success')\n"
        "    print(db.session.execute(query).scalar_one())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def _spread(values: list[float], fmt: str) -> str:
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}"


def _fresh_schema(url: str, schema: str) -> str:
    """A URL of ``url`` whose connections work in ``schema``, dropped and created empty."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def _lua(method: str, client_key: str | None, body: dict[str, object] | None) -> str:
    """A wrk script: each request names a participant of its own, as a real app's mints do
    (a token per participant); a thousand identical requests a second would sign one token
    over and over, which no app asks for. wrk runs a Lua state per thread: the thread's number
    keeps their participants apart."""
    lines = [
        "local threads = 0",
        "function setup(thread) threads = threads + 1; thread:set('n', threads) end",
        "local count = 0",
        f'wrk.method = "{method}"',
    ]
    if client_key:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {client_key}"')
    if body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
        head = json.dumps(body)[:-1] + ', "participantId": "p-'
        lines += ["function request()", "  count = count + 1",
                  f"  return wrk.format(nil, nil, nil, '{head}' .. n .. '-' .. count .. "
                  "'\"}')", "end"]
    else:
        lines += ["function request()", "  count = count + 1",
                  "  return wrk.format(nil, wrk.path .. '&peerId=p-' .. n .. '-' .. count)",
                  "end"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Endpoint:
    name: str
    server: str  # which gunicorn server answers it
    path: str
    script: Path


def run_database(kind: str, workdir: Path, base_env: dict[str, str]) -> dict[str, list[Result]]:
    """Start every app on one database, load each endpoint in turn; the results by endpoint."""
    roots = {"": ROOT, **({" (before)": Path(BEFORE).resolve()} if BEFORE else {})}

    def url_for(name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{workdir / (kind + '-' + name + '.db')}"
        return _fresh_schema(POSTGRES, f"bench_{name}")

    envs: dict[str, dict[str, str]] = {}
    keys: dict[str, str] = {}
    for suffix, root in roots.items():
        server = MINT + suffix
        envs[server] = {**base_env, "DATABASE_URL": url_for("before" if suffix else "app")}
        keys[server] = prepare_database(envs[server], root)
    envs[SAME] = {**base_env, "BENCH_SAME_WORK_URL": url_for("same"),
                  "BENCH_CLIENT_KEY": keys[MINT]}
    subprocess.run([sys.executable, "bench/same_work.py"], cwd=ROOT, env=envs[SAME], check=True)
    keys[SAME] = keys[MINT]
    envs[BARE] = base_env
    apps = {BARE: ("bench.bare:app", ROOT), SAME: ("bench.same_work:app", ROOT),
            **{MINT + suffix: ("wsgi:app", root) for suffix, root in roots.items()}}
    endpoints: list[Endpoint] = []
    for server in apps:
        script = workdir / f"{kind}-{len(endpoints)}.lua"
        script.write_text(_lua("POST", keys.get(server), BODY))
        endpoints.append(Endpoint(server, server, "/api/v1/tokens", script))
        if server.startswith(MINT):
            script = workdir / f"{kind}-{len(endpoints)}.lua"
            script.write_text(_lua("GET", keys[server], None))
            endpoints.append(Endpoint(GET_TOKEN + server[len(MINT):], server,
                                      "/get-token?roomId=bench-room", script))
    ports = {server: free_port() for server in apps}
    processes = {server: serve(target, ports[server], envs[server],
                               workdir / f"{kind}-{target.split(':')[0]}-{ports[server]}.log",
                               root)
                 for server, (target, root) in apps.items()}
    rounds: dict[str, list[Result]] = {endpoint.name: [] for endpoint in endpoints}
    try:
        print(f"{kind}: same work: {same_work(ports, keys)}", flush=True)
        # Alternate them, round after round, so that a neighbour's burst of load on a shared
        # machine falls on all rather than on one.
        for _ in range(ROUNDS):
            for endpoint in endpoints:
                url = f"http://127.0.0.1:{ports[endpoint.server]}{endpoint.path}"
                rounds[endpoint.name].append(load(endpoint.name, url, endpoint.script,
                                                  processes[endpoint.server].pid))
    finally:
        for process in processes.values():
            stop(process)
    for suffix, root in roots.items():
        rows = audited(envs[MINT + suffix], root)
        answered = sum(result.requests_2xx for name in (MINT + suffix, GET_TOKEN + suffix)
                       for result in rounds[name])
        print(f"{kind}: audit lines for successful mints{suffix}: {rows} (2xx counted by wrk in "
              f"measured rounds: {answered}; warm-ups and answers cut off at the end add to "
              "the lines)")
    return rounds


def report(kind: str, rounds: dict[str, list[Result]]) -> None:
    """The table of one database: best round of each, ratios to both baselines, bars."""
    best = {name: max(results, key=lambda result: result.throughput)
            for name, results in rounds.items()}
    bare, same = best[BARE].throughput, best[SAME].throughput
    print(f"\n{kind}")
    print(f"{'endpoint':<24}{'2xx/s':>8}{'non-2xx':>9}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'CPU us':>8}{'/bare':>7}{'/same':>7}   spread over rounds (2xx/s; p99 ms)")
    for name, results in rounds.items():
        top = best[name]
        print(f"{name:<24}{top.throughput:>8.0f}{sum(r.non_2xx for r in results):>9}"
              f"{top.p50_ms:>8.2f}{top.p99_ms:>8.2f}{top.cpu_us:>8.0f}"
              f"{top.throughput / bare if bare else 0:>7.2f}"
              f"{top.throughput / same if same else 0:>7.2f}"
              f"   {_spread([r.throughput for r in results], '{:.0f}')}; "
              f"{_spread([r.p99_ms for r in results], '{:.1f}')}")
    for name in rounds:
        if not name.startswith(MINT):
            continue
        per_round = [m.throughput / b.throughput for b, m in
                     zip(rounds[BARE], rounds[name], strict=True) if b.throughput]
        per_same = [m.throughput / s.throughput for s, m in
                    zip(rounds[SAME], rounds[name], strict=True) if s.throughput]
        print(f"{name}: /bare per round {_spread(per_round, '{:.2f}')} (bar >= 0.50), "
              f"/same work per round {_spread(per_same, '{:.2f}')} (bar >= 0.80), "
              f"p99 {best[name].p99_ms:.1f} ms (bar < 25 ms)")


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    kinds = [kind for kind in DATABASES.split(",")
             if kind == "sqlite" or (kind == "postgresql" and POSTGRES)]
    workers = WORKERS or "gunicorn.conf.py's"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"gunicorn: {workers} workers; wrk {THREADS} threads, {CONNECTIONS} connections, "
          f"{ROUNDS} rounds of {SECONDS} s after {WARMUP} s warm-up, each endpoint in turn; "
          f"the mint sends {BODY} plus a participantId of its own (p-<thread>-<n>), "
          "/get-token ?roomId=bench-room&peerId=p-<thread>-<n>", flush=True)
    results: dict[str, dict[str, list[Result]]] = {}
    with tempfile.TemporaryDirectory(prefix="token-console-bench-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "TOKEN_CONSOLE_INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "bench-" + "k" * 40,
            "ENCRYPTION_KEYS": "6rbsJxXo0IY4pW2V3bAHzZKZpR6qXKp6BSWWsRt4z1Q=",
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOG_LEVEL": "WARNING",
            "BENCH_SECRET": SECRET,
            "BENCH_APIKEY": APIKEY,
        }
        for kind in kinds:
            results[kind] = run_database(kind, workdir, env)
    print("CPU us: server CPU time (gunicorn master and workers) per 2xx answer; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    for kind, rounds in results.items():
        report(kind, rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
