#!/usr/bin/env bash
# Hostile links through --link, in a real window under Xvfb: each must
# leave the window alive (a message on its status line), never exit.
# Usage: tools/hostile-links.sh [BINARY]
set -euo pipefail
bin=${1:-target/release/backprop-viz}
display=:${LINKS_DISPLAY:-95}
log=$(mktemp)
Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=
cleanup() {
  [ -n "$app" ] && kill -9 "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT
export DISPLAY=$display
unset WAYLAND_DISPLAY
# Up to 30 s (a loaded machine starts Xvfb slowly).
for _ in $(seq 1 300); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || { echo "hostile-links: Xvfb did not start on $DISPLAY"; exit 1; }

links=(
  '#phase=backward:conv2&cell=dF:0'
  '#phase=backward:conv2&cell=dF:0,0,1'
  '#phase=backward:conv2&cell=D:0'
  '#phase=forward:conv1&cell=y:0,0'
  '#phase=loss&cell=L:0'
  '#phase=backward:fc1&cell=dF:0'
  '#phase=backward:pool2&cell=D:0,0'
  '#phase=backward:flatten&cell=D:0'
  '#phase=backward:conv2&cell=dF:0,0,99,99'
  '#phase=backward:relu1&cell=dF:0,0,0,0'
  '#preset=lenet&batch=4096&step=4&phase=backward:conv2'
  '#preset=seed&batch=512&step=100000'
  '#preset=seed&step=3&phase=backward:conv2&cell=D@relu2:0,0,3,3'
)
failed=0
for link in "${links[@]}"; do
  # A private settings folder: no first-start card, no state between runs.
  home=$(mktemp -d)
  HOME=$home XDG_DATA_HOME=$home "$bin" --link "$link" >"$log" 2>&1 &
  app=$!
  sleep 4
  if kill -0 "$app" 2>/dev/null; then
    echo "alive: $link"
    kill -9 "$app" 2>/dev/null || true
    wait "$app" 2>/dev/null || true
  else
    wait "$app" && code=0 || code=$?
    echo "DIED (exit $code): $link"
    tail -5 "$log"
    failed=1
  fi
  app=
  rm -rf "$home"
done
exit $failed
