#!/usr/bin/env bash
# The README's screenshots, made by the program itself: the release binary
# under Xvfb, driven with xdotool through tools/gui-shot.sh.
# Usage: tools/readme-shots.sh   (after cargo build --release; needs Xvfb,
# xdotool and ImageMagick's import, as .ci/run installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
shot=$PWD/tools/gui-shot.sh
bin=$PWD/target/release/backprop-viz
out=$PWD/docs/screenshots
mkdir -p "$out"

# Each run starts from a fresh settings store (English, no projector,
# nothing remembered), so the first-start card is open until a step.
fresh() {
  local home
  home=$(mktemp -d)
  HOME=$home XDG_DATA_HOME=$home XDG_CONFIG_HOME=$home XDG_RUNTIME_DIR=$home "$@"
  rm -rf "$home"
}
# N presses of Space (Step layer), as gui-shot actions.
spaces() { local i; for ((i = 0; i < $1; i++)); do printf -- '-a\nkey space\n-a\nsleep 0.3\n'; done; }
mapfile -t TO_CONV2 < <(spaces 18)   # phase 18: backward through conv2
mapfile -t TO_POOL2 < <(spaces 16)   # phase 16: backward through pool2

# conv2's backward step, the question's answer, with a cell of the batch's
# dF clicked and explained term by term (1600x1000).
fresh "$shot" -w 3 "${TO_CONV2[@]}" -a "sleep 0.5" -a "wclick 685 433" -a "sleep 0.8" \
  -a "wmove 1590 990" -a "sleep 0.5" -a "shot $out/backprop-dF-explained.png" -- "$bin"

# Max pooling's routing, animated (key A), caught half way: each delta on
# its way to the cell that won its window.
fresh "$shot" -w 3 "${TO_POOL2[@]}" -a "key a" -a "sleep 2.2" -a "key a" -a "wmove 1590 990" \
  -a "sleep 0.5" -a "shot $out/pool-routing.png" -- "$bin"

# A wider network (lenet: 8 and 16 filters): conv2's step for one pair of
# channels beside the dF of all 16x8 filters.
fresh "$shot" -w 3 "${TO_CONV2[@]}" -a "sleep 0.8" -a "wmove 1590 990" -a "sleep 0.3" \
  -a "shot $out/filter-bank.png" -- "$bin" --preset lenet

# The guided lesson at "The answer, part 1: dF" (PgDn ten times from the
# start), the view it points at outlined. Menu positions are for 1600x1000.
# The lesson predicts first: V reveals the step, as a teacher would.
fresh "$shot" -w 3 -a "wclick 144 12" -a "sleep 0.5" -a "wclick 184 39" -a "sleep 1" \
  -a "key Next Next Next Next Next Next Next Next Next Next" -a "sleep 1.5" -a "key v" -a "sleep 0.5" \
  -a "wmove 900 960" -a "sleep 0.3" \
  -a "shot $out/lesson-dF.png" -- "$bin"

# The same lesson in Russian (the language of the original question), at
# "The answer, part 2: the delta handed down".
# (PgDn starts the lesson, as a presentation clicker would.)
fresh "$shot" -w 3 -a "wclick 1561 12" -a "sleep 0.8" -a "key Next" -a "sleep 1" \
  -a "key Next Next Next Next Next Next Next Next Next Next Next" -a "sleep 1.5" -a "key v" -a "sleep 0.5" \
  -a "wmove 900 960" -a "sleep 0.3" -a "shot $out/lesson-ru.png" -- "$bin"

# Projector mode (key P) on a 1280x720 projector, conv2's backward step, in
# English and in Russian.
fresh "$shot" -s 1280x720x24 -w 3 -a "key p" -a "sleep 0.5" "${TO_CONV2[@]}" -a "sleep 0.8" \
  -a "wmove 1270 710" -a "shot $out/projector-720p.png" -- "$bin"
fresh "$shot" -s 1280x720x24 -w 3 -a "key p" -a "sleep 0.5" -a "wclick 1213 70" -a "sleep 0.5" \
  "${TO_CONV2[@]}" -a "sleep 0.8" -a "wmove 1270 710" -a "shot $out/projector-720p-ru.png" -- "$bin"

# The guided lesson on a 1280x720 projector (projector mode), driven as a
# clicker would: PgDn starts it and moves on, V reveals a covered step.
# Steps 6 (the loss), 9 (max pooling), 11 (dF) and 13 (conv1), English and
# Russian.
lesson_to() { local k; for ((k = 0; k < $1; k++)); do printf -- '-a\nkey Next\n-a\nsleep 0.7\n-a\nkey v\n-a\nsleep 0.7\n'; done; }
for lang in en ru; do
  args=(); [ "$lang" = ru ] && args=(--link '#lang=ru')
  for step in 6 9 11 13; do
    mapfile -t L < <(lesson_to "$step")
    fresh "$shot" -s 1280x720x24 -w 3 -a "key p" -a "sleep 0.8" "${L[@]}" -a "sleep 0.8" \
      -a "wmove 1275 715" -a "shot $out/lesson-720p-$lang-step$step.png" -- "$bin" "${args[@]}"
  done
done

# Run (key R) for eight seconds: how far the filters moved since Run was
# pressed, and the loss falling.
fresh "$shot" -w 3 -a "key r" -a "sleep 8" -a "key r" -a "sleep 0.8" -a "wmove 1590 990" \
  -a "shot $out/update-and-loss.png" -- "$bin"


# Draw a digit: the pretrained model loaded, a 7 drawn in two strokes; the
# 28x28 picture the network gets and its ten probabilities.
fresh "$shot" -w 3 -a "wclick 155 192" -a "sleep 0.8" -a "wclick 758 306" -a "sleep 1.5" \
  -a "drag 60 300 235 300" -a "drag 235 300 120 515" -a "sleep 1" -a "wmove 1590 990" \
  -a "shot $out/draw-a-digit.png" -- "$bin"

# The Data tab: what is loaded, counts per digit and samples.
fresh "$shot" -w 3 -a "wclick 243 192" -a "sleep 1.5" -a "wmove 1590 990" \
  -a "shot $out/data.png" -- "$bin"

# Check my backprop: an exercise of batch 1 solved with docs/exercise/solution.py
# but conv2's delta computed without turning the filter (needs python3 with
# NumPy; skipped without).
if python3 -c "import numpy" 2>/dev/null; then
  work=$(mktemp -d)
  "$bin" trace --exercise "$work/ex" >/dev/null
  python3 - "$work/ex" <<'PY'
import os, sys
sys.path.insert(0, os.path.abspath("docs/exercise"))
sys.path.insert(0, os.path.abspath(sys.argv[1]))
import solution, starter
for f in ("conv_backward", "dense_backward", "relu_backward", "maxpool_backward", "flatten_backward"):
    setattr(starter, f, getattr(solution, f))
def no_rot180(x, D, F, p):
    dF, dB, _ = solution.conv_backward(x, D, F, p)
    return dF, dB, solution.conv_backward(x, D, F[:, :, ::-1, ::-1], p)[2]
starter.conv_backward = no_rot180
starter.main()
PY
  (cd "$work/ex" && fresh "$shot" -w 5 -a "wmove 1590 990" -a "sleep 0.5" \
    -a "shot $out/check-my-backprop.png" -- "$bin" --check answers/conv2.delta.npy answers/conv2.weight_grad.npy answers/pool2.delta.npy answers/relu2.delta.npy)
  rm -rf "$work"
else
  echo "skipped check-my-backprop.png: python3 with NumPy is needed to solve the exercise"
fi

# Predict mode in the guided lesson: "Through max pooling" arrives covered
# by its question (which cell of the outlined window gets the delta).
fresh "$shot" -w 3 -a "key Next" -a "sleep 1" -a "key Next Next Next Next Next Next Next Next" \
  -a "sleep 2" -a "wmove 1590 990" -a "sleep 0.3" -a "shot $out/predict-pool.png" -- "$bin"

# conv2 as a dense layer: Wᵀ (196x196), the equalities with the engine's
# numbers, an entry on the diagonal picked.
fresh "$shot" -w 3 "${TO_CONV2[@]}" -a "sleep 0.5" -a "wclick 15 281" -a "sleep 0.8" \
  -a "wclick 196 612" -a "sleep 0.8" -a "wmove 1590 990" -a "sleep 0.3" \
  -a "shot $out/conv-as-dense-layer.png" -- "$bin"

# Move it by hand: conv2's centre tap on the explanation panel's slider,
# moved by about +0.4 (a drag): the loss's curve under backpropagation's
# tangent, the secant through L(w ± Δ), and the output's change (Δ times
# the input under the tap: the digit). Wheel clicks scroll the panel; each
# lands a pixel apart (xdotool waits long on a repeated spot).
wheel() { local i; for ((i = 0; i < $3; i++)); do printf -- '-a\nclick %d %d 5\n' $(($1 + i)) $(($2 + i)); done; }
mapfile -t DOWN6 < <(wheel 1300 700 6)
mapfile -t DOWN4 < <(wheel 1310 600 4)
mapfile -t DOWN3 < <(wheel 1320 600 3)
fresh "$shot" -w 3 -a "move 1300 700" "${DOWN6[@]}" -a "sleep 0.5" -a "click 1290 781" -a "sleep 1" \
  -a "move 1300 600" "${DOWN4[@]}" -a "sleep 1" -a "drag 1295 508 1315 508" -a "sleep 1.5" \
  -a "move 1300 600" "${DOWN3[@]}" -a "sleep 1" -a "wmove 1590 990" -a "sleep 0.3" \
  -a "shot $out/move-by-hand.png" -- "$bin" --link '#step=2&phase=backward:conv2&cell=dF:0,0,1,1'

# A dense layer's backward step as its tables (1280x720, projector mode):
# xᵀ across the top of dW, δ down its side, every cell with its number.
fresh "$shot" -s 1280x720x24 -w 3 -a "key p" -a "sleep 1" -a "wmove 1270 710" -a "sleep 0.3" \
  -a "shot $out/fc-as-tables-720p.png" -- "$bin" --link '#step=2&phase=backward:fc2'
