#!/usr/bin/env bash
# gui-shot.sh - run a GUI app under a private Xvfb, drive it with xdotool, take PNG screenshots.
# See usage() below. (The project's copy of the shared tool that the
# screenshots in README.md and tools/readme-shots.sh are made with.)
set -u

usage() {
  cat <<'EOF'
Usage: gui-shot.sh [options] -- COMMAND [ARGS...]

Starts Xvfb on a free display (default: first free from :99, screen 1600x1000x24),
runs COMMAND with DISPLAY set (WAYLAND_DISPLAY unset, so winit/eframe uses X11),
waits, runs optional xdotool actions, saves screenshots, then kills the app
(its whole process group, so `cargo run` wrappers die too) and Xvfb by PID.

Options:
  -w SECONDS   wait after starting the app before actions/screenshots (default 5;
               measured: an eframe 0.37 build shows its first frame 0.3-0.6 s after
               exec on llvmpipe; add the compile time when COMMAND is `cargo run`)
  -o FILE.png  screenshot of the whole screen, taken after all actions (repeatable)
  -a ACTION    one action (repeatable, run in order; see ACTIONS)
  -f FILE      read actions from FILE, one per line ('#' comments and blank lines ignored)
  -s WxHxD     Xvfb screen geometry (default 1600x1000x24)
  -d N         use display :N (default: first free display number >= 99)
  -n REGEX     window name (title) to target for w* actions (default: the app's
               window found via _NET_WM_PID, else the first visible window)
  -l FILE      write the app's stdout+stderr to FILE (default: a temp file,
               whose last 40 lines are printed at the end)
  -t SECONDS   hard limit for the app's whole run (default 120); the script never hangs
  -h           this help

ACTIONS (coordinates in pixels; 'w' variants are relative to the app window's top-left):
  key KEYSYM...      press keys, e.g. 'key k', 'key ctrl+s', 'key Return Tab'
  type TEXT          type text (xdotool type, 30 ms per char)
  click X Y [BTN]    move to screen X,Y and click (BTN 1=left default, 3=right)
  wclick X Y [BTN]   same, relative to the app window
  move X Y | wmove X Y   move pointer only
  drag X1 Y1 X2 Y2   left-button drag in screen coordinates
  sleep SECONDS      wait (fractional OK)
  shot FILE.png      screenshot of the whole screen now
  wshot FILE.png     screenshot of the app window only now
  xdotool ARGS...    any raw xdotool command, e.g. 'xdotool getmouselocation'
  sh CMD...          run a shell command (DISPLAY is set), e.g. 'sh xwininfo -root -tree'

Keyboard input goes to the app window: the script focuses it (XSetInputFocus; there is
no window manager) and parks the pointer over it before each key/type action.

Exit status: 0 if everything ran, 2 on usage error, 3 if Xvfb failed, 4 if the app
died before the screenshots (screenshots are still taken), 5 if a screenshot failed.

Examples:
  gui-shot.sh -w 10 -o /tmp/start.png -- ./target/release/myapp
  gui-shot.sh -w 10 -a 'wclick 60 48' -a 'sleep 1' -a 'shot /tmp/after-click.png' \
              -a 'key k' -o /tmp/final.png -- cargo run --release
  LIBGL_ALWAYS_SOFTWARE=1 gui-shot.sh -f actions.txt -o /tmp/x.png -- ./myapp

Needs: xvfb xdotool imagemagick x11-utils (+ libgl1-mesa-dri libegl1 for glow,
mesa-vulkan-drivers for wgpu/Vulkan). See README.md next to this script.
EOF
}

WAIT=5 SCREEN=1600x1000x24 DISP="" WNAME="" LOG="" LIMIT=120
SHOTS=() ACTIONS=()
while getopts "w:o:a:f:s:d:n:l:t:h" opt; do
  case $opt in
    w) WAIT=$OPTARG ;;
    o) SHOTS+=("$OPTARG") ;;
    a) ACTIONS+=("$OPTARG") ;;
    f) [[ -r $OPTARG ]] || { echo "gui-shot: cannot read actions file $OPTARG" >&2; exit 2; }
       while IFS= read -r line || [[ -n $line ]]; do
         line="${line#"${line%%[![:space:]]*}"}"
         [[ -z $line || $line == \#* ]] && continue
         ACTIONS+=("$line")
       done < "$OPTARG" ;;
    s) SCREEN=$OPTARG ;;
    d) DISP=$OPTARG ;;
    n) WNAME=$OPTARG ;;
    l) LOG=$OPTARG ;;
    t) LIMIT=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ ${1:-} == -- ]] && shift
if [[ $# -eq 0 ]]; then usage >&2; echo >&2; echo "gui-shot: no COMMAND given" >&2; exit 2; fi

for tool in Xvfb xdotool import xdpyinfo; do
  command -v "$tool" >/dev/null || { echo "gui-shot: '$tool' not found; apt-get install -y xvfb xdotool imagemagick x11-utils" >&2; exit 2; }
done
# NB: on this machine /usr/local/bin/convert is a stand-in that shadows ImageMagick; use
# `import`/`identify` or the full path /usr/bin/convert.

log() { echo "[gui-shot $(date +%T)] $*" >&2; }

# ---- pick a free display -------------------------------------------------------------
AUTO_DISP=0
next_free_display() { # prints the first display number >= $1 without a lock/socket
  local n
  for n in $(seq "$1" 199); do
    [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] && continue
    echo "$n"; return 0
  done
  return 1
}
if [[ -z $DISP ]]; then
  AUTO_DISP=1
  DISP=$(next_free_display 99) || { echo "gui-shot: no free display in :99..:199" >&2; exit 3; }
fi

XVFB_PID="" APP_PID="" STATUS=0 TMPLOG=""
cleanup() {
  if [[ -n $APP_PID ]] && kill -0 "$APP_PID" 2>/dev/null; then
    kill -TERM -- "-$APP_PID" 2>/dev/null || kill -TERM "$APP_PID" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$APP_PID" 2>/dev/null || kill -KILL "$APP_PID" 2>/dev/null
  fi
  if [[ -n $XVFB_PID ]] && kill -0 "$XVFB_PID" 2>/dev/null; then
    kill -TERM "$XVFB_PID" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$XVFB_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$XVFB_PID" 2>/dev/null
  fi
  wait 2>/dev/null
  if [[ -n $TMPLOG && -f $TMPLOG ]]; then
    echo "----- app output (last 40 lines of $TMPLOG) -----" >&2
    tail -n 40 "$TMPLOG" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- start Xvfb (retry on the next free display if another run grabbed ours) -----------
for attempt in 1 2 3 4 5; do
  export DISPLAY=":$DISP"
  Xvfb "$DISPLAY" -screen 0 "$SCREEN" -nolisten tcp -ac +extension GLX +extension RANDR \
    >/tmp/gui-shot-xvfb.$DISP.log 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do
    xdpyinfo >/dev/null 2>&1 && break
    kill -0 "$XVFB_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$XVFB_PID" 2>/dev/null && xdpyinfo >/dev/null 2>&1 && break
  kill "$XVFB_PID" 2>/dev/null; wait "$XVFB_PID" 2>/dev/null; XVFB_PID=""
  if [[ $AUTO_DISP -eq 1 ]] && DISP=$(next_free_display $((DISP + 1))); then
    log "Xvfb failed on $DISPLAY, retrying on :$DISP"; continue
  fi
  break
done
if [[ -z $XVFB_PID ]]; then
  echo "gui-shot: Xvfb did not start on $DISPLAY; log:" >&2; cat /tmp/gui-shot-xvfb.*.log >&2 2>/dev/null; exit 3
fi
log "Xvfb pid $XVFB_PID on $DISPLAY ($SCREEN)"

# ---- start the app in its own process group ----------------------------------------------
if [[ -z $LOG ]]; then TMPLOG=$(mktemp /tmp/gui-shot-app.XXXXXX.log); LOG=$TMPLOG; fi
( unset WAYLAND_DISPLAY WAYLAND_SOCKET; exec setsid timeout --kill-after=5 "$LIMIT" "$@" ) >"$LOG" 2>&1 &
APP_PID=$!
log "app pid $APP_PID (process group $APP_PID): $*"
log "waiting $WAIT s"
sleep "$WAIT"
kill -0 "$APP_PID" 2>/dev/null || { log "WARNING: app already exited"; STATUS=4; }

# ---- find the app window ---------------------------------------------------------------
WID=""
find_window() {
  local pid
  if [[ -n $WNAME ]]; then
    WID=$(xdotool search --onlyvisible --name "$WNAME" 2>/dev/null | head -n1)
  else
    for pid in $(pgrep -g "$APP_PID" 2>/dev/null); do
      WID=$(xdotool search --onlyvisible --pid "$pid" 2>/dev/null | head -n1)
      [[ -n $WID ]] && break
    done
    [[ -z $WID ]] && WID=$(xdotool search --onlyvisible --name '.' 2>/dev/null | head -n1)
  fi
  [[ -n $WID ]]
}
if find_window; then
  eval "$(xdotool getwindowgeometry --shell "$WID")"
  log "app window $WID '$(xdotool getwindowname "$WID")' at ${X},${Y} size ${WIDTH}x${HEIGHT}"
else
  log "WARNING: no app window found (w* actions will use screen coordinates)"
fi

focus() {
  [[ -z $WID ]] && return 0
  xdotool windowfocus --sync "$WID" 2>/dev/null || xdotool windowfocus "$WID" 2>/dev/null
  # Without a window manager the pointer must be over the window for keys to arrive reliably.
  local loc; loc=$(xdotool getmouselocation --shell 2>/dev/null | grep WINDOW= | cut -d= -f2)
  [[ $loc == "$WID" ]] || xdotool mousemove --window "$WID" 5 5
}

shot() { # shot FILE [window-id]
  local out=$1 win=${2:-root}
  mkdir -p "$(dirname "$out")"
  if import -window "$win" "png:$out" 2>/dev/null; then
    local mean; mean=$(identify -format '%[fx:mean]' "$out" 2>/dev/null)
    log "screenshot $out ($(identify -format '%wx%h' "$out"), mean brightness ${mean:-?})"
    awk -v m="${mean:-1}" 'BEGIN{exit !(m < 0.02)}' && log "WARNING: $out is (almost) all black - did the app render?"
  else
    log "ERROR: screenshot $out failed"; STATUS=5
  fi
}

# ---- actions ------------------------------------------------------------------------------
for act in "${ACTIONS[@]+"${ACTIONS[@]}"}"; do
  read -r verb rest <<<"$act"
  read -r -a args <<<"$rest"
  log "action: $act"
  case $verb in
    key)    focus; xdotool key --delay 60 "${args[@]}" ;;
    type)   focus; xdotool type --delay 30 -- "$rest" ;;
    click)  xdotool mousemove --sync "${args[0]}" "${args[1]}" click "${args[2]:-1}" ;;
    wclick) if [[ -n $WID ]]; then xdotool mousemove --window "$WID" "${args[0]}" "${args[1]}" click "${args[2]:-1}"
            else xdotool mousemove "${args[0]}" "${args[1]}" click "${args[2]:-1}"; fi ;;
    move)   xdotool mousemove --sync "${args[0]}" "${args[1]}" ;;
    wmove)  if [[ -n $WID ]]; then xdotool mousemove --window "$WID" "${args[0]}" "${args[1]}"
            else xdotool mousemove "${args[0]}" "${args[1]}"; fi ;;
    drag)   xdotool mousemove --sync "${args[0]}" "${args[1]}" mousedown 1 sleep 0.2 \
              mousemove --sync "${args[2]}" "${args[3]}" sleep 0.2 mouseup 1 ;;
    sleep)  sleep "${args[0]}" ;;
    shot)   shot "$rest" ;;
    wshot)  if [[ -n $WID ]]; then shot "$rest" "$WID"; else shot "$rest"; fi ;;
    xdotool) xdotool "${args[@]}" ;;
    sh)     bash -c "$rest" ;;
    *)      log "ERROR: unknown action '$verb' (see -h)"; STATUS=2 ;;
  esac
done

# ---- final screenshots --------------------------------------------------------------------
for out in "${SHOTS[@]+"${SHOTS[@]}"}"; do shot "$out"; done
if ! kill -0 "$APP_PID" 2>/dev/null; then
  log "WARNING: app is not running at the end (exited or crashed)"; [[ $STATUS -eq 0 ]] && STATUS=4
fi
exit "$STATUS"
