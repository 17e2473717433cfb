#!/usr/bin/env bash
# One prepared run on a machine with a GPU, in one call: the device check, then a 3D training run there.
#
#   OUT=results DEVICE=cuda STEPS=20000 SAMPLES=2000 bash benchmarks/device_session.sh
#
# Runs from the repository root with the package on PYTHONPATH (no install: the GPU machine's
# own torch is used). Reads the real cases from ./shared/data/real when present (copy
# ../shared/data/real there first and carry it). Writes under $OUT:
#   device_check.md    weights load with weights_only=True on the device, skeletons identical
#                      to the CPU's, times (benchmarks/device_check.py)
#   skelite_3d.pt/.json/.ckpt   a 3D subfield-variant run on more data than the shipped file's,
#                      checkpointed every 500 steps, so a run cut by the time limit still
#                      returns its state
#   recipe.json, train.log
# Check the script anywhere with: OUT=/tmp/ds DEVICE=cpu STEPS=2 BATCH=2 SAMPLES=8 TRAIN_CHECK=2 bash benchmarks/device_session.sh
set -uo pipefail
OUT=${OUT:?set OUT to the folder for the results}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-20000}
BATCH=${BATCH:-4096}
SAMPLES=${SAMPLES:-2000}
TRAIN_CHECK=${TRAIN_CHECK:-100}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
PY=${PYTHON:-python3}
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$PY" benchmarks/device_check.py --device "$DEVICE" --shared shared --out "$OUT" --train-steps "$TRAIN_CHECK" 2>&1 | tail -n 60
cat > "$OUT/recipe.json" <<EOF
{"ndim": 3, "variant": "subfield", "batch": $BATCH, "samples": $SAMPLES, "val_samples": 32, "keep_weight": 4,
 "checkpoint_every": 500}
EOF
"$PY" -c "from napari_skelite.cli import main; raise SystemExit(main())" train --config "$OUT/recipe.json" \
    --device "$DEVICE" --out "$OUT/skelite_3d.pt" --seed 0 --steps "$STEPS" --threads 8 \
    > "$OUT/train.log" 2>&1
echo "train exit $?"; tail -c 2000 "$OUT/train.log"
"$PY" -W ignore benchmarks/device_large.py --device "$DEVICE" | tee "$OUT/device_large.md"
