#!/usr/bin/env bash
# End-to-end check of compose.yaml, for CI and by hand (needs a Docker engine, Compose v2 or v1,
# curl, and a built repository: npm ci && npm run build):
#   1. base image: node:22-bookworm-slim if present, else the offline one made from this machine's
#      Node.js (scripts/make-offline-base-image.sh --tag istio-lab-base:local); no pull is tried
#   2. compose up -d --build, with PWD set to a temporary folder, so the lab's home is <tmp>/.lab
#      and the repository's own .lab is left alone
#   3. waits (bounded) until lab.json is written and `lab status` answers
#   4. lab apply (catalog, its Gateway and VirtualService); the ingress (127.0.0.1:8080) and a call
#      from inside the catalog pod (lab exec ... curl http://catalog/items) must both answer 200 JSON
#   5. compose stop: the control plane exits, the pods keep serving (the ingress still answers)
#   6. compose up -d: a new control plane adopts the same pod containers, traffic still flows
#   7. compose down (removes the control plane; the network stays while pods are on it), then
#      lab down: nothing labelled io.istio-lab.lab=compose may remain, and a last compose down
#      finds nothing to complain about
# On any failure it prints the control plane's log, removes what it started and exits non-zero.
#
#   scripts/compose-check.sh            (COMPOSE_CHECK_TIMEOUT=seconds for step 3, default 90)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

project=istio-lab-compose-check
label=io.istio-lab.lab=compose
cp_name=istio-lab-compose-controlplane
net_name=istio-lab-compose-net
subnet=172.29.0.0/16
ingress_port=8080
api_port=15010
offline_base=istio-lab-base:local
official_base=node:22-bookworm-slim
ready_timeout="${COMPOSE_CHECK_TIMEOUT:-90}"

t0=$SECONDS
step() { printf '\n== [%3ss] %s\n' "$((SECONDS - t0))" "$*"; }
say() { printf '   %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

work=""
started=0

dc() { env PWD="$work" "${compose[@]}" -p "$project" -f "$repo/compose.yaml" --project-directory "$repo" "$@"; }
lab() { LAB_HOME="$work/.lab" node "$repo/bin/lab.js" "$@"; }
lab_containers() { docker ps -aq --filter "label=$label"; }
lab_networks() { docker network ls -q --filter "label=$label"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ] && [ "$started" = 1 ]; then
    printf '\n== cleaning up after the failure\n' >&2
    if [ -f "$work/.lab/controlplane.log" ]; then
      printf -- '--- %s (last 40 lines)\n' "$work/.lab/controlplane.log" >&2
      tail -n 40 "$work/.lab/controlplane.log" >&2 || true
    fi
    docker logs --tail 20 "$cp_name" >&2 2>&1 || true
    dc down >&2 2>&1 || true
    lab down >&2 2>&1 || true
    local ids nets
    ids="$(lab_containers)"
    # shellcheck disable=SC2086
    [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
    nets="$(lab_networks)"
    # shellcheck disable=SC2086
    [ -z "$nets" ] || docker network rm $nets >/dev/null 2>&1 || true
  fi
  if [ -n "$work" ] && [ -d "$work" ]; then
    # The control plane writes as root into the home: a non-root runner removes it through a container.
    rm -rf "$work" 2>/dev/null || docker run --rm -v "$work:/w" "${LAB_BASE_IMAGE:-$cp_image}" rm -rf /w/.lab >/dev/null 2>&1 || true
    rm -rf "$work" 2>/dev/null || printf 'note: could not remove %s\n' "$work" >&2
  fi
  if [ "$rc" -eq 0 ]; then printf '\ncompose check: PASS (%ss)\n' "$((SECONDS - t0))"; else printf '\ncompose check: FAIL (exit %s, %ss)\n' "$rc" "$((SECONDS - t0))" >&2; fi
  exit "$rc"
}
cp_image=istio-lab:compose
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "preconditions"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (docker info failed)"
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
else fail "neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed"; fi
say "compose: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || echo '?'))"
command -v curl >/dev/null 2>&1 || fail "curl is not installed"
[ -f dist/src/controlplane/main.js ] && [ -f dist/src/runtime/docker/compose.js ] || fail "dist/ is missing: run npm ci && npm run build first"
node dist/src/runtime/docker/compose.js --check || fail "compose.yaml is out of date (run npm run compose:generate)"
say "compose.yaml matches what src/runtime/docker/compose.ts renders"
for port in "$ingress_port" "$api_port"; do
  node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen({host:"127.0.0.1",port:+process.argv[1]},()=>s.close(()=>process.exit(0)))' "$port" \
    || fail "127.0.0.1:$port is in use; compose.yaml publishes it (ingress $ingress_port, control plane API $api_port): stop what holds it first"
done
say "127.0.0.1:$ingress_port and 127.0.0.1:$api_port are free"
[ -z "$(lab_containers)" ] || fail "containers labelled $label exist already (a compose lab is up?): docker compose down, or lab down with its LAB_HOME, first"
if docker network inspect "$net_name" >/dev/null 2>&1; then fail "network $net_name exists already (a compose lab is up?)"; fi
for n in $(docker network ls -q); do
  if docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$n" | grep -qwF "$subnet"; then
    fail "$subnet, the compose lab's fixed network, is taken by network $(docker network inspect -f '{{.Name}}' "$n")"
  fi
done
say "no compose lab is running; $subnet is free"

step "base image"
if [ -n "${LAB_BASE_IMAGE:-}" ]; then
  docker image inspect "$LAB_BASE_IMAGE" >/dev/null 2>&1 || fail "LAB_BASE_IMAGE=$LAB_BASE_IMAGE: no such image"
  say "LAB_BASE_IMAGE=$LAB_BASE_IMAGE (from the environment)"
elif docker image inspect "$official_base" >/dev/null 2>&1; then
  export LAB_BASE_IMAGE="$official_base"
  say "$official_base is present"
else
  have="$(docker run --rm --network none "$offline_base" node --version 2>/dev/null || true)"
  if [ "$have" = "$(node --version)" ]; then
    say "$official_base is absent; reusing $offline_base (Node $have, as on this machine)"
  else
    say "$official_base is absent; making $offline_base from this machine's Node.js $(node --version)"
    run scripts/make-offline-base-image.sh --tag "$offline_base"
  fi
  export LAB_BASE_IMAGE="$offline_base"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/istio-lab-compose.XXXXXX")"
chmod 755 "$work"
mkdir -p "$work/.lab"
step "compose up (PWD=$work, so LAB_HOME=$work/.lab)"
started=1
run env PWD="$work" LAB_BASE_IMAGE="$LAB_BASE_IMAGE" "${compose[@]}" -p "$project" -f "$repo/compose.yaml" --project-directory "$repo" up -d --build

# Waits until lab.json is written by a control plane started after $1 (its startedAt) and `lab status` answers.
wait_ready() {
  local after="$1" deadline=$((SECONDS + ready_timeout))
  until [ -f "$work/.lab/lab.json" ] && [ "$(started_at)" != "$after" ] && lab status >/dev/null 2>&1; do
    [ "$(docker inspect -f '{{.State.Running}}' "$cp_name" 2>/dev/null)" = true ] || fail "the control plane container $cp_name is not running"
    [ "$SECONDS" -lt "$deadline" ] || fail "the control plane was not ready within ${ready_timeout}s"
    sleep 1
  done
  run env LAB_HOME="$work/.lab" node bin/lab.js status
  grep -q '"labId": "compose"' "$work/.lab/lab.json" || fail "lab.json does not name the lab compose: $(cat "$work/.lab/lab.json")"
}
started_at() { node -e 'try { console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).startedAt) } catch { console.log("") }' "$work/.lab/lab.json"; }

step "waiting for the control plane (at most ${ready_timeout}s)"
wait_ready ""
say "containers: $(docker ps --filter "label=$label" --format '{{.Names}}' | sort | tr '\n' ' ')"

step "lab apply: catalog, its Gateway and VirtualService"
run env LAB_HOME="$work/.lab" node bin/lab.js apply -f services/catalog/kubernetes/catalog.yaml -f ch5/catalog-gateway.yaml -f ch5/catalog-vs.yaml

is_json() { node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))'; }

# The catalog through the ingress gateway: 200 with JSON (retried while it comes up).
ingress_ok() {
  local code="" body=""
  for _ in $(seq 1 30); do
    code="$(curl -s -o "$work/body" -w '%{http_code}' --max-time 5 -H 'Host: catalog.istioinaction.io' "http://127.0.0.1:$ingress_port/items" || true)"
    body="$(cat "$work/body" 2>/dev/null || true)"
    [ "$code" = 200 ] && printf '%s' "$body" | is_json 2>/dev/null && break
    sleep 1
  done
  say "HTTP $code: $(printf '%s' "$body" | tr -s ' \n' ' ' | head -c 100)"
  [ "$code" = 200 ] || fail "the ingress answered HTTP $code, not 200"
  printf '%s' "$body" | is_json 2>/dev/null || fail "the ingress's answer is not JSON"
}

step "through the ingress gateway: curl -H 'Host: catalog.istioinaction.io' http://127.0.0.1:$ingress_port/items"
ingress_ok

step "from inside the catalog pod: lab exec deploy/catalog -- curl -s http://catalog/items"
out=""
for _ in $(seq 1 10); do
  out="$(lab exec deploy/catalog -- curl -s --max-time 5 -w '\n%{http_code}' http://catalog/items 2>&1 || true)"
  [ "$(printf '%s' "$out" | tail -n 1)" = 200 ] && printf '%s' "$out" | sed '$d' | is_json 2>/dev/null && break
  sleep 1
done
code="$(printf '%s' "$out" | tail -n 1)"
say "HTTP $code: $(printf '%s' "$out" | sed '$d' | tr -s ' \n' ' ' | head -c 100)"
[ "$code" = 200 ] || fail "the call from the catalog pod answered HTTP $code, not 200 (output: ${out:0:300})"
printf '%s' "$out" | sed '$d' | is_json 2>/dev/null || fail "the call from the catalog pod did not answer JSON"

pods() { docker ps -q --no-trunc --filter "label=$label" --filter "label=io.istio-lab.role=pod" | sort; }
before="$(pods)"
first_start="$(started_at)"

step "compose stop: the control plane exits, its pods keep serving"
run env PWD="$work" "${compose[@]}" -p "$project" -f "$repo/compose.yaml" --project-directory "$repo" stop
[ "$(docker inspect -f '{{.State.Running}}' "$cp_name" 2>/dev/null)" = false ] || fail "the control plane container is still running after compose stop"
[ "$(pods)" = "$before" ] || fail "the pods' containers changed when the control plane stopped"
say "$(printf '%s\n' "$before" | wc -l) pod containers still running"
ingress_ok

step "compose up -d: a new control plane adopts the running pods"
run env PWD="$work" "${compose[@]}" -p "$project" -f "$repo/compose.yaml" --project-directory "$repo" up -d
wait_ready "$first_start"
[ "$(pods)" = "$before" ] || fail "the pods' containers were replaced instead of adopted:
before: $before
after: $(pods)"
say "the same $(printf '%s\n' "$before" | wc -l) pod containers, adopted"
ingress_ok

step "compose down: removes the control plane container (the network stays while pods are on it)"
run env PWD="$work" "${compose[@]}" -p "$project" -f "$repo/compose.yaml" --project-directory "$repo" down || say "(compose down exited with $?: expected while the lab's pods are on its network)"
if docker inspect "$cp_name" >/dev/null 2>&1; then fail "compose down left the control plane container $cp_name"; fi

step "lab down: the whole lab (found by its label, named in lab.json)"
run env LAB_HOME="$work/.lab" node bin/lab.js down
[ -z "$(lab_containers)" ] || fail "containers labelled $label remain: $(docker ps -a --filter "label=$label" --format '{{.Names}}')"
[ -z "$(lab_networks)" ] || fail "networks labelled $label remain"
say "no container or network labelled $label remains"

step "compose down again: nothing left for it"
run env PWD="$work" "${compose[@]}" -p "$project" -f "$repo/compose.yaml" --project-directory "$repo" down || fail "compose down after lab down exited with $?"
started=0
