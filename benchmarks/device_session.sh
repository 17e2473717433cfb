#!/usr/bin/env bash
# One prepared run on a machine with a GPU, in one call: the device check, then a 3D training run there.
#
#   OUT=results DEVICE=cuda STEPS=6000 BATCH=32 bash benchmarks/device_session.sh
#
# Runs from the repository root with the package on PYTHONPATH (no install: the GPU machine's
# own torch is used). Reads the real cases from ./shared/data/real when present (copy
# ../shared/data/real there first and carry it), and the generated 3D training data from
# $CACHE (default runs/cache; carry it, or it is generated there). Writes under $OUT:
#   device_check.md    weights load with weights_only=True on the device, skeletons identical
#                      to the CPU's, times (benchmarks/device_check.py)
#   skelite_3d.pt/.json/.ckpt   the 3D run (init: $INIT, the best 3D network so far), checkpointed
#                      every 500 steps, so a run cut by the time limit still returns its state
#   train.log
# Check the script anywhere with: OUT=/tmp/ds DEVICE=cpu STEPS=2 BATCH=2 SAMPLES=8 TRAIN_CHECK=2 bash benchmarks/device_session.sh
set -uo pipefail
OUT=${OUT:?set OUT to the folder for the results}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-6000}
BATCH=${BATCH:-32}
SAMPLES=${SAMPLES:-6000}
CACHE=${CACHE:-runs/cache}
INIT=${INIT:-runs/s6/run3d_ft/skelite_3d.pt}
TRAIN_CHECK=${TRAIN_CHECK:-100}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$CACHE"
PY=${PYTHON:-python3}
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$PY" benchmarks/device_check.py --device "$DEVICE" --shared shared --out "$OUT" --train-steps "$TRAIN_CHECK" 2>&1 | tail -n 60
init=()
if [ -f "$INIT" ]; then init=(--init "$INIT"); echo "3D run starts from $INIT"; else echo "3D run starts from random weights ($INIT not found: carry it)"; fi
"$PY" -c "from napari_skelite.cli import main; raise SystemExit(main())" train --dim 3 --device "$DEVICE" \
    --out "$OUT/skelite_3d.pt" --seed 0 --steps "$STEPS" --batch "$BATCH" --samples "$SAMPLES" --val-samples 16 \
    --threads 8 --keep-weight 8 --lr 1e-3 --unrolled-fraction 0.25 --cache "$CACHE" --checkpoint-every 500 \
    "${init[@]}" > "$OUT/train.log" 2>&1
echo "train exit $?"; tail -c 2000 "$OUT/train.log"
