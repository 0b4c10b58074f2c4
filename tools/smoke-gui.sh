#!/usr/bin/env bash
# Real-window smoke test: start the release binary under Xvfb, wait for its
# window, take a screenshot, check that it is not blank, close the app.
# Usage: tools/smoke-gui.sh [BINARY] [SCREENSHOT.png]
set -euo pipefail
bin=${1:-target/release/backprop-viz}
shot=${2:-target/smoke-gui.png}
display=:${SMOKE_DISPLAY:-97}
log=$(mktemp)

Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=
cleanup() {
  [ -n "$app" ] && kill "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
}
trap cleanup EXIT
export DISPLAY=$display
unset WAYLAND_DISPLAY
# Up to 30 s: on a loaded machine (a build alongside) Xvfb took over 5 s and
# the app then found no display.
for _ in $(seq 1 300); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || { echo "smoke: Xvfb did not start on $display"; exit 1; }

started=$(date +%s.%N)
"$bin" >"$log" 2>&1 &
app=$!
window=
for _ in $(seq 1 200); do
  window=$(xdotool search --name "backprop-viz" 2>/dev/null | head -n 1 || true)
  [ -n "$window" ] && break
  kill -0 "$app" 2>/dev/null || { echo "smoke: the app exited early:"; cat "$log"; exit 1; }
  sleep 0.05
done
[ -n "$window" ] || { echo "smoke: no window after 10 s"; cat "$log"; exit 1; }
appeared=$(date +%s.%N)
sleep 2 # the first frames
import -window root "$shot"
# A blank (one-colour) screen has standard deviation 0; the app's text,
# buttons and digit images give far more.
deviation=$(identify -format '%[fx:standard_deviation]' "$shot")
mean=$(identify -format '%[fx:mean]' "$shot")
echo "smoke: window after $(echo "$appeared - $started" | bc) s; screenshot $shot: mean $mean, standard deviation $deviation"
if [ "$(echo "$deviation < 0.05" | bc)" = 1 ]; then
  echo "smoke: the screenshot looks blank"
  exit 1
fi
kill -TERM "$app"
for _ in $(seq 1 50); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$app" 2>/dev/null; then
  echo "smoke: the app did not close"
  exit 1
fi
app=
if grep -qi "panicked" "$log"; then
  echo "smoke: the app panicked:"; cat "$log"; exit 1
fi
echo "smoke: ok"
