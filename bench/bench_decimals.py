"""What keeping decimals' lexical form costs (issue 13 point 4a), per full Synthea bundle.

Same run, best of R rounds each (the estimate least disturbed by other load): parse
(orjson check + the duplicate-key decoder, with floats vs with model.decimals.Decimal), serialise
(orjson.dumps vs jsonio.dumps with Decimal fragments), the storage write conversion
(storage.decimals.bson_ready: Decimal -> Decimal128) and the read decode (BSON with doubles vs
with Decimal128 and the decoding codec). Figures in milliseconds per bundle and per decimal.
Run: .venv/bin/python bench/bench_decimals.py [--rounds R] [--bundles N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bson  # noqa: E402
import orjson  # noqa: E402
from bson.codec_options import CodecOptions  # noqa: E402

from fhir_server.model import jsonio  # noqa: E402
from fhir_server.storage.decimals import _REGISTRY, bson_ready  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared/data/synthea/bundles"
_FLOATS = json.JSONDecoder(object_pairs_hook=jsonio._unique_object,
                           parse_constant=jsonio._no_constant)
DECODE = CodecOptions(type_registry=_REGISTRY)


def _old_loads(raw: bytes) -> Any:
    orjson.loads(raw)
    return _FLOATS.decode(raw.decode("utf-8"))


def _best(work: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _measure(path: Path, rounds: int) -> None:
    """Print one bundle's figures."""
    raw = path.read_bytes()
    old, new = _old_loads(raw), jsonio.loads(raw)
    resources = [e["resource"] for e in new["entry"]]
    floats = [e["resource"] for e in old["entry"]]
    stored_old = [bson.encode({"res": r}) for r in floats]
    stored_new = [bson.encode({"res": bson_ready(r)}) for r in resources]
    decimals = jsonio.dumps(new).count(b".")  # roughly: every decimal has a point
    rows = {
        "parse": (_best(lambda: _old_loads(raw), rounds),
                  _best(lambda: jsonio.loads(raw), rounds)),
        "serialise": (_best(lambda: orjson.dumps(old), rounds),
                      _best(lambda: jsonio.dumps(new), rounds)),
        "store write": (0.0, _best(lambda: [bson_ready(r) for r in resources], rounds)),
        "store read": (_best(lambda: [bson.decode(d) for d in stored_old], rounds),
                       _best(lambda: [bson.decode(d, codec_options=DECODE)
                                      for d in stored_new], rounds)),
    }
    print(f"{path.name}: {len(raw) / 1e3:.0f} kB, {len(resources)} resources, "
          f"~{decimals} decimals")
    for name, (before, after) in rows.items():
        print(f"  {name:12s} floats {before:6.2f} ms   decimals {after:6.2f} ms   "
              f"+{(after - before) * 1000 / max(decimals, 1):5.2f} us/decimal")


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--bundles", type=int, default=3)
    args = parser.parse_args()
    files = sorted(DATA.glob("*.json"), key=lambda p: -p.stat().st_size)[:args.bundles]
    if not files:
        print(f"no Synthea bundles at {DATA}")
        return
    for path in files:
        _measure(path, args.rounds)

if __name__ == "__main__":
    main()
