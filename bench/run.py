"""The benchmark of SPEC 8: the real mint endpoint against a bare Flask + PyJWT baseline.

Both run under the same gunicorn settings on loopback, on SQLite, one after
the other; wrk loads each for a bounded time with the same body. Only 2xx
answers count. Prints throughput, p50/p99 latency and the ratio.

    make bench                      # defaults below
    BENCH_SECONDS=20 BENCH_CONNECTIONS=16 .venv/bin/python bench/run.py
    BENCH_ABLATE=1 make bench       # also the mint with its database work off (bench/ablate.py)
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
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# Empty: the workers and threads of gunicorn.conf.py, for both apps alike.
WORKERS = os.environ.get("BENCH_WORKERS", "")
# 0 (default): every request sends BODY, so equal claims within one second sign to one token,
# which the mint endpoint records once (ON CONFLICT DO NOTHING) and audits every time. 1: each
# request names a room of its own (both endpoints alike), so every mint also stores a token.
VARY_ROOM = os.environ.get("BENCH_VARY_ROOM", "0") == "1"
# 1: also load the mint endpoint with its database work switched off (bench/ablate.py), to
# show what the database costs and what the rest of the product costs.
ABLATE = os.environ.get("BENCH_ABLATE", "0") == "1"
ABLATIONS = (("mint, no INSERTs", "bench.ablate:without_writes"),
             ("mint, no database", "bench.ablate:without_database"))
SECRET = "b" * 64
APIKEY = "bench-api-key"
BODY = {"permissions": ["allow_join"], "roomId": "bench-room"}


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


def prepare_database(env: dict[str, str]) -> str:
    """Migrate a fresh SQLite database, store the key and a client above the load; its key."""
    script = (
        "from webapp import create_app\n"
        "from webapp.extensions import db\n"
        "from webapp import keyring, clients\n"
        "from flask_migrate import upgrade\n"
        "import pathlib\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(directory=str(pathlib.Path('webapp/migrations')))\n"
        f"    key = keyring.add_key('bench', {APIKEY!r}, {SECRET!r})\n"
        "    client, plaintext = clients.create_client('bench', ['tokens:mint'],\n"
        "        key_labels=['bench'], rate_limit='100000000/minute')\n"
        "    db.session.commit()\n"
        "    print(plaintext)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def serve(target: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn with the repository's settings, quiet access log."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "--config", "gunicorn.conf.py",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
        *(["--workers", WORKERS] if WORKERS else []), target,
    ]
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=handle)
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


def load(name: str, port: int, script: Path, master: int) -> Result:
    """Warm up, then run wrk for SECONDS; parse its report."""
    url = f"http://127.0.0.1:{port}/api/v1/tokens"
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


def same_work(bare_port: int, real_port: int, client_key: str) -> str:
    """Both sign the same header and claims, in the same order, and answer the same fields."""
    bare, real = _post(bare_port, None), _post(real_port, client_key)
    (bare_header, bare_claims), (real_header, real_claims) = (
        _decoded(str(bare["token"])), _decoded(str(real["token"])))
    strip = {"iat", "exp"}
    if (bare_header != real_header or list(bare_claims) != list(real_claims)
            or {k: v for k, v in bare_claims.items() if k not in strip}
            != {k: v for k, v in real_claims.items() if k not in strip}
            or sorted(bare) != sorted(real)):
        raise SystemExit(f"the two do not sign the same thing:\n{bare}\n{real}")
    return f"header {real_header}, claims {list(real_claims)}"


def audited(env: dict[str, str]) -> int:
    """How many successful mints the audit trail holds."""
    script = (
        "from webapp import create_app\n"
        "from webapp.extensions import db\n"
        "from webapp.models import AuditEvent\n"
        "from sqlalchemy import func, select\n"
        "with create_app().app_context():\n"
        "    print(db.session.execute(select(func.count()).select_from(AuditEvent).where(\n"
        "        AuditEvent.action == 'token.minted', AuditEvent.outcome == 'success'))\n"
        "        .scalar_one())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


# Each wrk thread numbers its requests; the thread's own id keeps the rooms apart.
_VARY_ROOM_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"permissions": ["allow_join"], "roomId": "bench-room-'
    .. id .. '-' .. counter .. '"}')
end
"""


def _spread(values: list[float], fmt: str) -> str:
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}"


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="token-console-bench-") as tmp:
        workdir = Path(tmp)
        env = {
            **os.environ,
            "TOKEN_CONSOLE_INSTANCE_PATH": str(workdir / "instance"),
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": "bench-" + "k" * 40,
            "ENCRYPTION_KEYS": "6rbsJxXo0IY4pW2V3bAHzZKZpR6qXKp6BSWWsRt4z1Q=",
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOG_LEVEL": "WARNING",
            "BENCH_SECRET": SECRET,
            "BENCH_APIKEY": APIKEY,
        }
        client_key = prepare_database(env)
        script = workdir / "mint.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = '{json.dumps(BODY)}'\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {client_key}"\n'
            + (_VARY_ROOM_LUA if VARY_ROOM else "")
        )
        targets = (("bare Flask + PyJWT", "bench.bare:app"), ("Token Console mint", "wsgi:app"),
                   *(ABLATIONS if ABLATE else ()))
        ports = {target: free_port() for _, target in targets}
        servers = [serve(target, ports[target], env, workdir / f"{target.split(':')[0]}.log")
                   for _, target in targets]
        masters = {target: process.pid for (_, target), process in zip(targets, servers,
                                                                         strict=True)}
        rounds: dict[str, list[Result]] = {name: [] for name, _ in targets}
        try:
            checked = same_work(ports["bench.bare:app"], ports["wsgi:app"], client_key)
            # Alternate the two, round after round, so that a neighbour's burst of load on a
            # shared machine falls on both rather than on one.
            for _ in range(ROUNDS):
                for name, target in targets:
                    rounds[name].append(load(name, ports[target], script, masters[target]))
        finally:
            for process in servers:
                stop(process)
        rows = audited(env)
    answered = sum(result.requests_2xx for result in rounds["Token Console mint"])
    workers = WORKERS or "gunicorn.conf.py's"
    print(f"machine: {os.cpu_count()} cores; gunicorn: {workers} workers; wrk {THREADS} threads, "
          f"{CONNECTIONS} connections, {ROUNDS} rounds of {SECONDS} s after {WARMUP} s warm-up, "
          "each endpoint in turn; "
          + ("a room of its own per request" if VARY_ROOM else f"every request sends {BODY}"))
    print(f"same work: {checked}")
    print(f"{'endpoint':<22}{'2xx/s':>8}{'non-2xx':>9}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'CPU us':>8}{'/bare':>7}   spread over rounds (2xx/s; p99 ms)")
    bare_best = max(rounds["bare Flask + PyJWT"], key=lambda result: result.throughput)
    best: dict[str, Result] = {}
    for name, results in rounds.items():
        top = max(results, key=lambda result: result.throughput)
        best[name] = top
        print(f"{name:<22}{top.throughput:>8.0f}{sum(r.non_2xx for r in results):>9}"
              f"{top.p50_ms:>8.2f}{top.p99_ms:>8.2f}{top.cpu_us:>8.0f}"
              f"{top.throughput / bare_best.throughput if bare_best.throughput else 0:>7.2f}"
              f"   {_spread([r.throughput for r in results], '{:.0f}')}; "
              f"{_spread([r.p99_ms for r in results], '{:.1f}')}")
    bare, real = best["bare Flask + PyJWT"], best["Token Console mint"]
    ratio = real.throughput / bare.throughput if bare.throughput else 0.0
    per_round = [m.throughput / b.throughput for b, m in
                 zip(rounds["bare Flask + PyJWT"], rounds["Token Console mint"], strict=True)
                 if b.throughput]
    print("CPU us: server CPU time (gunicorn master and workers) per 2xx answer")
    print(f"ratio (best mint / best bare): {ratio:.2f}; per round {_spread(per_round, '{:.2f}')}"
          "  (bar: >= 0.80; p99 bar: < 25 ms)")
    print(f"audit rows for successful mints: {rows} (2xx counted by wrk in measured rounds: "
          f"{answered}; warm-ups and answers cut off at the end add to the rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
