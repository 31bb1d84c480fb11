"""How long diagnose() takes for one token, in process (SPEC 8: under 2 ms).

    .venv/bin/python bench/diagnosis.py [--tokens 2000] [--rounds 5]

The corpus mixes valid, expired, forged (wrong secret, another stored key's secret, an
unknown key: every stored secret is tried) and malformed tokens, checked against 5 stored
keys. Prints the median and p99 per kind and overall, in milliseconds.
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

from webapp.tokens import KnownKey, MintRequest, diagnose, mint  # noqa: E402

NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
KEYS = tuple(
    KnownKey(
        f"key-{n}",
        f"apikey-{n}",
        hashlib.sha256(f"bench secret {n}".encode()).hexdigest(),
        max_lifetime=86400,
    )
    for n in range(5)
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


def corpus(size: int, seed: int = 7) -> list[tuple[str, str]]:
    """(kind, paste) pairs."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for i in range(size):
        key = rng.choice(KEYS)
        kind = ("valid", "expired", "forged", "other key", "unknown key", "malformed")[i % 6]
        if kind == "valid":
            raw = _minted(rng, key, key.secret, rng.choice(["3h", "24h"]), key.apikey)
        elif kind == "expired":
            raw = _minted(rng, key, key.secret, rng.choice(["1m", "10m"]), key.apikey)
        elif kind == "forged":
            raw = _minted(rng, key, STRANGER, "1h", key.apikey)
        elif kind == "other key":
            other = rng.choice([k for k in KEYS if k is not key])
            raw = _minted(rng, key, other.secret, "1h", key.apikey)
        elif kind == "unknown key":
            raw = _minted(rng, key, STRANGER, "1h", "apikey-unknown")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    tokens = corpus(args.tokens)
    for _, raw in tokens[:200]:  # warm up caches and the allocator
        diagnose(raw, keys=KEYS, at=NOW)
    by_kind: dict[str, list[float]] = {}
    gc.collect()
    clock = time.perf_counter_ns
    for _ in range(args.rounds):
        for kind, raw in tokens:
            start = clock()
            diagnose(raw, keys=KEYS, at=NOW, room_id="room-1", use="join")
            by_kind.setdefault(kind, []).append((clock() - start) / 1e6)
    every = [sample for samples in by_kind.values() for sample in samples]
    python = sys.version.split()[0]
    print(f"diagnose() of one token, in process, {len(KEYS)} stored keys, Python {python}")
    for kind, samples in by_kind.items():
        print(f"  {kind:<12} {_ms(samples)}")
    print(f"  {'all':<12} {_ms(every)}")
    verdict = "under" if sorted(every)[int(len(every) * 0.99)] < 2 else "OVER"
    print(f"target: p99 under 2 ms -> {verdict}")


if __name__ == "__main__":
    main()
