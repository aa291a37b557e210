#!/usr/bin/env bash
# Makes a Docker engine answer on this machine, for the lab's Docker runtime and its tests:
# installs Debian's docker.io, iptables and docker-compose when missing (as root, with apt-get),
# and starts dockerd in the background when no engine answers (its log: /tmp/lab-dockerd.log).
# Exits non-zero, saying why, when that cannot be done. Safe to run again.
set -euo pipefail

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && answers; then
  echo "docker: engine $(docker version --format '{{.Server.Version}}') answers"
  exit 0
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "docker: missing ${missing[*]} and cannot install them here (needs root and apt-get)" >&2
    exit 1
  fi
  echo "docker: installing ${missing[*]} from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! answers; then
  if [ "$(id -u)" != 0 ]; then
    echo "docker: no engine answers and only root can start dockerd here" >&2
    exit 1
  fi
  echo "docker: starting dockerd (log: /tmp/lab-dockerd.log)"
  nohup dockerd >/tmp/lab-dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    answers && break
    sleep 0.5
  done
fi
if ! answers; then
  echo "docker: dockerd did not answer within 60 s; its log ends with:" >&2
  tail -20 /tmp/lab-dockerd.log >&2 || true
  exit 1
fi
echo "docker: engine $(docker version --format '{{.Server.Version}}') answers"
