#!/usr/bin/env bash
# One call on a lent GPU machine (the `device` tool): install the carried wheels (py-spy, nvidia-ml-py)
# beside the machine's own torch, run benchmarks/gpu_capture.py, and pack its output for $OUT
# (at most 8 files come back, so everything but the summary travels as one tarball).
# Usage there:  bash benchmarks/gpu_device_run.sh [gpu_capture.py arguments]   (carry: .whl)
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-$PWD/gpu_capture_out}
mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH
else
  export PYTHONPATH=$PWD
fi
{
  nvidia-smi -L
  python3 -c 'import sys, pynvml, numpy, psutil; print(sys.version.split()[0], pynvml.__file__, numpy.__version__, psutil.__version__)'
  python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
  command -v py-spy
} 2>&1 | tee "$OUT/env.txt"
cap=/tmp/perftui_capture
rm -rf "$cap"
python3 benchmarks/gpu_capture.py --out "$cap" "$@" 2>&1 | tee "$OUT/log.txt"
rc=${PIPESTATUS[0]}
cp "$cap/capture.json" "$OUT/" 2>/dev/null
tar czf "$OUT/capture.tgz" -C "$(dirname "$cap")" "$(basename "$cap")"
ls -la "$OUT"
exit "$rc"
