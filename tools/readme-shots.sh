#!/usr/bin/env bash
# The README's classroom screenshots, made by the program itself: the release
# binary under Xvfb, driven with xdotool through gui-shot.sh (from the
# project's shared tools; pass its path as GUI_SHOT if it lives elsewhere).
# Usage: tools/readme-shots.sh   (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
shot=${GUI_SHOT:-../shared/tools/gui-shot.sh}
bin=$PWD/target/release/backprop-viz
out=$PWD/docs/screenshots
# A fresh settings store: English, no projector, nothing remembered.
export XDG_DATA_HOME=$(mktemp -d)
trap 'rm -rf "$XDG_DATA_HOME"' EXIT

# The guided lesson at "The answer, part 1: dF" (PgDn ten times from the start),
# the view it points at outlined. Menu positions are for the 1600x1000 window.
"$shot" -w 2 -a "wclick 144 12" -a "sleep 0.5" -a "wclick 184 39" -a "sleep 1" \
  -a "key Next Next Next Next Next Next Next Next Next Next" -a "sleep 1.5" -a "wmove 900 960" -a "sleep 0.3" \
  -a "wshot $out/lesson-dF.png" -- "$bin"

# The same lesson in Russian (the language of the original question), at
# "The answer, part 2: the delta handed down", with a delta cell clicked.
"$shot" -w 2 -a "wclick 1561 12" -a "sleep 0.5" -a "wclick 120 12" -a "sleep 0.5" \
  -a "wclick 184 39" -a "sleep 1" \
  -a "key Next Next Next Next Next Next Next Next Next Next Next" -a "sleep 1.5" -a "wmove 900 960" -a "sleep 0.3" \
  -a "wshot $out/lesson-ru.png" -- "$bin"

# Projector mode on a 1280x720 projector, in the middle of the backward pass.
"$shot" -s 1280x720x24 -w 2 -a "xdotool search --name backprop-viz windowsize 1280 720" \
  -a "sleep 0.5" -a "key p" -a "sleep 0.5" \
  -a "key space space space space space space space space space space space space space space space space space space" \
  -a "sleep 1" -a "shot $out/projector-720p.png" -- "$bin"
