#!/usr/bin/env bash
# The whole test suite: system packages the tests use (installed when missing),
# build, typecheck, lint, then every vitest suite. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

# Real components the tests run on loopback. Installed with apt-get when missing (as root).
need=()
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
[ -x /usr/sbin/squid ] || command -v squid >/dev/null 2>&1 || need+=(squid)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
# luacheck (Debian: lua-check): lints the cluster's Lua script (packages/server/test/lua-lint.test.ts).
command -v luacheck >/dev/null 2>&1 || need+=(lua-check)
# nftables: firewalls and NAT of the network-namespace topologies (packages/agent/test/netns-*).
[ -x /usr/sbin/nft ] || command -v nft >/dev/null 2>&1 || need+=(nftables)
# aiortc (Python) and python3-websockets: the SDK and SFU interop tests (packages/client/test/interop-aiortc.test.ts, packages/sfu/test/aiortc-sfu.test.ts).
/usr/bin/python3 -c "import aiortc" >/dev/null 2>&1 || need+=(python3-aiortc)
/usr/bin/python3 -c "import websockets" >/dev/null 2>&1 || need+=(python3-websockets)
# GStreamer's webrtcbin from Python (packages/gateway/test/netns-gstreamer.test.ts: a WHIP publisher).
/usr/bin/python3 -c "import gi; gi.require_version('GstWebRTC', '1.0')" >/dev/null 2>&1 ||
  need+=(python3-gi gir1.2-gst-plugins-bad-1.0 gstreamer1.0-nice gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)
# Chromium: the SDK browser tests and TURN over TCP/TLS with real WebRTC peers; PINHOLE_CHROMIUM overrides.
[ -n "${PINHOLE_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]} > 0)); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} (apt-get)"
    # Debian starts coturn, squid, redis-server and mosquitto as services on install, but the
    # tests start their own. So the install starts none: policy-rc.d exit 101 ("forbidden") is
    # what invoke-rc.d and deb-systemd-invoke obey (a Docker image already has one; keep it).
    # Nothing is stopped or killed afterwards, so servers already running here are left alone.
    policy=/usr/sbin/policy-rc.d own_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
      trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    if [ -n "$own_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  else
    echo "missing system packages: ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci
npm run build --silent
echo "typecheck…" && npx tsc -p tsconfig.json
echo "lint…" && npx eslint .

report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
rm -f "$report"
exit "$status"
