#!/usr/bin/env bash
# Idempotent set-up for `npm test` and `npm run demo`: installs the Debian packages bluegreen's
# real components come from (when missing, with apt, as root), then `npm ci` when node_modules
# is missing or older than package-lock.json. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

# binary → Debian package
declare -A PACKAGES=(
  [nats-server]=nats-server
  [nginx]=nginx-light
  [prometheus]=prometheus
  [sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [openssl]=openssl
  [ip]=iproute2
  [systemd-analyze]=systemd
  [lintian]=lintian
  [nix-instantiate]=nix-bin
  [dpkg-deb]=dpkg
  [chromium]=chromium
)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

missing=()
for bin in "${!PACKAGES[@]}"; do
  have "$bin" || missing+=("${PACKAGES[$bin]}")
done

if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Services must not start on install (tests spawn their own instances on free ports).
    policy_rc=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy_rc" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy_rc" && chmod +x "$policy_rc" && created_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$created_policy" -eq 1 ] && rm -f "$policy_rc"
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# sshd needs its privilege-separation directory (tests run sshd -D themselves).
[ -d /run/sshd ] || mkdir -p /run/sshd 2>/dev/null || true

# npm ci when node_modules is missing or does not match package-lock.json.
stamp=node_modules/.bluegreen-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
