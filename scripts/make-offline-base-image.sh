#!/usr/bin/env bash
# Makes a base image for the lab's Dockerfile on a machine that reaches no image registry: the
# host's own Node.js binary, the few tools a pod needs (sh, sleep, curl, iptables) and the shared
# libraries they link, laid out as a root filesystem and imported with `docker import`.
#
#   scripts/make-offline-base-image.sh [--tag istio-lab-base:local] [--tar FILE|-]
#
# With --tar the root filesystem is written as a tar stream (to FILE, or stdout with -) instead of
# being imported; the lab uses that form and imports it through the Docker Engine API.
# Needs: bash, tar, ldd (glibc), and on PATH: node, curl, iptables (Debian: apt-get install curl iptables).
set -euo pipefail

tag="istio-lab-base:local"
tar_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --tar) tar_out="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done

need() { command -v "$1" >/dev/null 2>&1 || { echo "make-offline-base-image: '$1' not found on PATH; $2" >&2; exit 1; }; }
need node "the image carries the host's Node.js"
need curl "install it (apt-get install curl): pods use it for lab exec"
need tar "install tar"
need ldd "install libc-bin"
iptables_bin=""
for c in /usr/sbin/xtables-nft-multi /sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /sbin/xtables-legacy-multi; do
  [ -x "$c" ] && { iptables_bin="$c"; break; }
done
[ -n "$iptables_bin" ] || { echo "make-offline-base-image: iptables not found; install it (apt-get install iptables)" >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT

copy() { # copy a file (following symlinks) to the same path under $root
  local src="$1" dst="$root${2:-$1}"
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
}
copy_with_libs() {
  local bin; bin="$(readlink -f "$1")"
  copy "$bin" "${2:-}"
  ldd "$bin" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] || copy "$lib"
  done
}

copy_with_libs "$(command -v node)" /usr/local/bin/node
for tool in sh sleep cat ls env mkdir rm id; do
  p="$(command -v "$tool")" && copy_with_libs "$p" "/bin/$tool"
done
copy_with_libs "$(command -v curl)" /usr/bin/curl
copy_with_libs "$iptables_bin" "/usr/sbin/$(basename "$iptables_bin")"
for name in iptables iptables-restore iptables-save; do ln -sf "$(basename "$iptables_bin")" "$root/usr/sbin/$name"; done
# iptables loads its matches and targets (owner, REDIRECT, DNAT, ...) as plugins.
for d in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/aarch64-linux-gnu/xtables /usr/lib/xtables /usr/lib64/xtables; do
  if [ -d "$d" ]; then
    mkdir -p "$root$d"; cp -L "$d"/*.so "$root$d/"
    for so in "$d"/*.so; do ldd "$so" 2>/dev/null | awk '/=> \//{print $3}' | while read -r lib; do [ -e "$root$lib" ] || copy "$lib"; done; done
  fi
done
# Debian's /lib is a symlink to /usr/lib; keep the loader where binaries look for it.
for l in /lib64 /lib; do [ -L "$l" ] && [ ! -e "$root$l" ] && ln -s "$(readlink "$l")" "$root$l"; done
mkdir -p "$root/etc" "$root/tmp" "$root/var/run" "$root/app"
chmod 1777 "$root/tmp"
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
istio-proxy:x:1337:1337:istio-proxy:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
P
printf 'root:x:0:\nistio-proxy:x:1337:\nnogroup:x:65534:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
ln -s /bin/sh "$root/bin/bash" 2>/dev/null || true
mkdir -p "$root/usr/bin" && ln -sf /bin/env "$root/usr/bin/env"

if [ -n "$tar_out" ]; then
  if [ "$tar_out" = "-" ]; then tar -C "$root" -c .; else tar -C "$root" -cf "$tar_out" .; fi
else
  need docker "or use --tar FILE and import it yourself"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
  echo "$tag"
fi
