#!/usr/bin/env bash
# The screenshots of the Letters and Verification pages in docs/dashboard.md, with data:
# the verification scenario (scenarios/verification/run.sh) on two real nodes, then the
# letter of 4 March 1977 (test_data/letters/, with its two amendments) from US/Carter to
# USSR/Brezhnev and a short reply, sent between the same nodes. The pages are those of the
# US node, in Debian's headless chromium driven through chromedriver (WebDriver).
#
#   docs/screenshots/letters-verification.sh [OUTDIR]     (default: docs/screenshots)
#
# Uses `detente` from PATH, or DETENTE=/path/to/detente; needs chromium, chromedriver and
# python3 (standard library only). Everything else happens in a temporary folder.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)"
detente="$(command -v "${DETENTE:-detente}")"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== the verification scenario"
DETENTE="$detente" "$repo/scenarios/verification/run.sh" "$work/nodes" >"$work/scenario.log"
cd "$work/nodes"

echo "== principals, in the network file of both nodes"
"$detente" principal new Carter --party US --out carter.key >carter.block 2>/dev/null
"$detente" principal new Brezhnev --party USSR --out brezhnev.key >brezhnev.block 2>/dev/null
python3 - <<'EOF'
net = open("network.toml").read()
block = lambda f: open(f).read().split("[[party.principal]]", 1)[1].strip()
head, us, ussr = net.split("[[party]]")
net = (head + "[[party]]" + us.rstrip() + "\n\n[[party.principal]]\n" + block("carter.block")
       + "\n\n[[party]]" + ussr.rstrip() + "\n\n[[party.principal]]\n" + block("brezhnev.block") + "\n")
open("network.toml", "w").write(net)
EOF
cp network.toml us/network.toml
cp network.toml ussr/network.toml
port() { python3 -c 'import re,sys; print(re.search(r"name = \"%s\"\nurl = \"http://127.0.0.1:(\d+)\"" % sys.argv[1], open("network.toml").read()).group(1))' "$1"; }
us_port=$(port US)

"$detente" serve --data us --sync-every-ms 500 >us.log 2>&1 &
pids+=($!)
"$detente" serve --data ussr --sync-every-ms 500 >ussr.log 2>&1 &
pids+=($!)
token=$("$detente" user add ana --role viewer --data us 2>/dev/null | head -1)
for _ in $(seq 1 100); do
  curl -sf -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$us_port/api/v1/letters" && break
  sleep 0.1
done

echo "== the letter of 4 March 1977, and a reply"
letters="$repo/test_data/letters"
"$detente" letter draft --from US/Carter --to USSR/Brezhnev --date 1977-03-04 \
  --subject "Strategic arms limitation" --body "$letters/carter-1977-03-04.md" \
  --reference "your letter of February 25th" --out carter.json
python3 -c 'import json, sys
for a in json.load(open(sys.argv[1])): print(a["original"]); print(a["replacement"])' \
  "$letters/carter-1977-03-04.amendments.json" | while IFS= read -r original && IFS= read -r replacement; do
  "$detente" letter amend carter.json --original "$original" --replacement "$replacement"
done
sent=$("$detente" letter send carter.json --key carter.key --data us)
echo "$sent"
index=$(echo "$sent" | sed -n 's/.*entry \([0-9]*\) of.*/\1/p')
printf 'Dear Mr. President,\n\nI have received your letter of March 4th.\n' >reply.md
"$detente" letter draft --from USSR/Brezhnev --to US/Carter --date 1977-03-15 \
  --subject "Your letter of March 4th" --body reply.md \
  --reference "your letter of March 4th@US:$index" --out reply.json
"$detente" letter send reply.json --key brezhnev.key --data ussr
# Until the US node lists both letters, each cosigned by the other party's node.
for _ in $(seq 1 100); do
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$us_port/api/v1/letters" \
    | python3 -c 'import json,sys; l=json.load(sys.stdin)["letters"]; sys.exit(0 if len(l)==2 and all(x["cosigned_by"] for x in l) else 1)' \
    && break
  sleep 0.2
done

echo "== screenshots"
driver_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chromedriver --port="$driver_port" >chromedriver.log 2>&1 &
pids+=($!)
sleep 1
python3 - "$driver_port" "http://127.0.0.1:$us_port" "$token" "$out" "$work/profile" <<'EOF'
import base64, json, sys, time, urllib.request

port, base, token, out, profile = sys.argv[1:]
wd = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(wd + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["value"]

flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}"]
sid = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome",
           "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": flags}}}})["sessionId"]
try:
    call("POST", f"/session/{sid}/url", {"url": base + "/login"})
    call("POST", f"/session/{sid}/cookie", {"cookie": {"name": "detente_token", "value": token,
                                                       "path": "/", "httpOnly": True}})
    for name, path in [("letters", "/dashboard/letters"),
                       ("verification", "/dashboard/verification?at=1979-10-01")]:
        call("POST", f"/session/{sid}/window/rect", {"width": 1280, "height": 900})
        call("POST", f"/session/{sid}/url", {"url": base + path})
        time.sleep(1)
        height = call("POST", f"/session/{sid}/execute/sync",
                      {"script": "return document.documentElement.scrollHeight;", "args": []})
        call("POST", f"/session/{sid}/window/rect",
             {"width": 1280, "height": max(600, min(int(height), 4000)) + 140})
        time.sleep(0.5)
        with open(f"{out}/{name}.png", "wb") as f:
            f.write(base64.b64decode(call("GET", f"/session/{sid}/screenshot")))
        print(f"{out}/{name}.png")
finally:
    call("DELETE", f"/session/{sid}")
EOF
