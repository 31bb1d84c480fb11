"""How long diagnose() takes for one token, in process (SPEC 8: under 2 ms).

    .venv/bin/python bench/diagnosis.py [--tokens 2000] [--rounds 5] [--keys 5 50]

The corpus mixes valid, expired, forged (wrong secret, another stored key's secret, an
unknown key: every stored secret, every replaced secret and a handful of secret variants per
key are tried), wrapped (URL, JSON, log line) and malformed tokens, checked against 5 and
then 50 stored keys, each with one replaced secret (SPEC 3.1: the variants are tried only
when nothing matched as written). Prints the median and p99 per kind and overall, in ms.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp.tokens import (  # noqa: E402
    KnownKey,
    MintRequest,
    ReplacedSecret,
    diagnose,
    mint,
)

NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)


def stored_keys(count: int) -> tuple[KnownKey, ...]:
    """`count` stored keys, each with the secret it had before a replacement."""
    return tuple(
        KnownKey(
            f"key-{n}",
            f"apikey-{n}",
            hashlib.sha256(f"bench secret {n}".encode()).hexdigest(),
            max_lifetime=86400,
            replaced_secrets=(ReplacedSecret(
                hashlib.sha256(f"old bench secret {n}".encode()).hexdigest(), NOW, "bench"),),
        )
        for n in range(count)
    )


STRANGER = hashlib.sha256(b"not stored").hexdigest()


def _minted(rng: random.Random, key: KnownKey, secret: str, lifetime: str, apikey: str) -> str:
    request = MintRequest(
        permissions=rng.choice([("allow_join",), ("ask_join",), ("allow_join", "allow_mod")]),
        roles=rng.choice([None, ("rtc",), ("crawler",)]),
        room_id=rng.choice([None, f"room-{rng.randrange(10**6)}"]),
        participant_id=rng.choice([None, f"p-{rng.randrange(10**6)}"]),
        expires_in=lifetime,
    )
    at = NOW.timestamp() - rng.randrange(0, 7200)
    now = datetime.fromtimestamp(at, UTC)
    return mint(request, apikey=apikey, secret=secret, now=now).token


def corpus(size: int, keys: tuple[KnownKey, ...], seed: int = 7) -> list[tuple[str, str]]:
    """(kind, paste) pairs."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    kinds = ("valid", "expired", "forged", "other key", "unknown key", "wrapped", "malformed")
    for i in range(size):
        key = rng.choice(keys)
        kind = kinds[i % len(kinds)]
        if kind == "valid":
            raw = _minted(rng, key, key.secret, rng.choice(["3h", "24h"]), key.apikey)
        elif kind == "expired":
            raw = _minted(rng, key, key.secret, rng.choice(["1m", "10m"]), key.apikey)
        elif kind == "forged":
            raw = _minted(rng, key, STRANGER, "1h", key.apikey)
        elif kind == "other key":
            other = rng.choice([k for k in keys if k is not key])
            raw = _minted(rng, key, other.secret, "1h", key.apikey)
        elif kind == "unknown key":
            raw = _minted(rng, key, STRANGER, "1h", "apikey-unknown")
        elif kind == "wrapped":
            good = _minted(rng, key, key.secret, "1h", key.apikey)
            raw = rng.choice([f"https://app.example/join?room=r&token={good}",
                              f'{{"token": "{good}"}}', f"b'{good}'",
                              f"2026-11-27 WARN join refused jwt={good} code=4002"])
        else:
            good = _minted(rng, key, key.secret, "1h", key.apikey)
            cut = rng.randrange(len(good))
            raw = rng.choice(
                [good[:cut], good.replace(".", "=.", 1), f'Bearer "{good[:-3]}"\n', good[::-1]]
            )
        out.append((kind, raw))
    return out


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered):.3f} ms   p99 {p99:.3f} ms   (n={len(ordered)})"


def run(keys: tuple[KnownKey, ...], size: int, rounds: int, *, cpu: bool = False) -> None:
    """Time diagnose() over the corpus against `keys` and print the figures; with `cpu`, the
    thread's CPU time (what a machine shared by other work does not inflate) instead of the
    wall clock."""
    tokens = corpus(size, keys)
    for _, raw in tokens[:200]:  # warm up caches and the allocator
        diagnose(raw, keys=keys, at=NOW)
    by_kind: dict[str, list[float]] = {}
    gc.collect()
    clock = time.thread_time_ns if cpu else time.perf_counter_ns
    for _ in range(rounds):
        for kind, raw in tokens:
            start = clock()
            diagnose(raw, keys=keys, at=NOW, room_id="room-1", use="join")
            by_kind.setdefault(kind, []).append((clock() - start) / 1e6)
    every = [sample for samples in by_kind.values() for sample in samples]
    python = sys.version.split()[0]
    what = "CPU time" if cpu else "wall clock"
    print(f"diagnose() of one token, in process, {len(keys)} stored keys, {what}, "
          f"Python {python}")
    for kind, samples in by_kind.items():
        print(f"  {kind:<12} {_ms(samples)}")
    print(f"  {'all':<12} {_ms(every)}")
    verdict = "under" if sorted(every)[int(len(every) * 0.99)] < 2 else "OVER"
    print(f"target: p99 under 2 ms -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keys", type=int, nargs="+", default=[5, 50])
    parser.add_argument("--cpu", action="store_true",
                        help="time the thread's CPU time rather than the wall clock")
    args = parser.parse_args()
    for count in args.keys:
        run(stored_keys(count), args.tokens, args.rounds, cpu=args.cpu)


if __name__ == "__main__":
    main()
