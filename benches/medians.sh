#!/usr/bin/env bash
# Prints the median (and its 95% interval) of every criterion benchmark last run, in ms.
# usage: benches/medians.sh   (respects CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CARGO_TARGET_DIR:-target}/criterion
python3 - "$dir" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
for est in sorted(root.glob("*/*/new/estimates.json")):
    m = json.loads(est.read_text())["median"]
    name = f"{est.parent.parent.parent.name}/{est.parent.parent.name}"
    lo, hi = m["confidence_interval"]["lower_bound"], m["confidence_interval"]["upper_bound"]
    print(f"{name:55s} median {m['point_estimate']/1e6:9.3f} ms   [{lo/1e6:.3f} .. {hi/1e6:.3f}]")
PY
