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
# nftables: firewalls and NAT of the network-namespace topologies (packages/agent/test/netns-*).
[ -x /usr/sbin/nft ] || command -v nft >/dev/null 2>&1 || need+=(nftables)
# aiortc (Python) and python3-websockets: the SDK interop test (packages/client/test/interop-aiortc.test.ts).
/usr/bin/python3 -c "import aiortc" >/dev/null 2>&1 || need+=(python3-aiortc)
/usr/bin/python3 -c "import websockets" >/dev/null 2>&1 || need+=(python3-websockets)
# Chromium: the SDK browser tests and TURN over TCP/TLS with real WebRTC peers; PINHOLE_CHROMIUM overrides.
[ -n "${PINHOLE_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]} > 0)); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # Debian starts these as services on install; tests start their own.
    for svc in coturn squid redis-server mosquitto; do (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true; done
    pkill -x turnserver >/dev/null 2>&1 || true
    pkill -x redis-server >/dev/null 2>&1 || true
    pkill -x mosquitto >/dev/null 2>&1 || true
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
