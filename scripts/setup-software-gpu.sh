#!/usr/bin/env bash
# Make a WebGPU adapter available on a Debian 12 machine that has no usable GPU driver.
#
# Dawn (the `webgpu` npm package) needs a Vulkan driver. Debian 12 ships Mesa 22.3, whose
# lavapipe (software Vulkan on the CPU) Dawn rejects; bookworm-backports carries Mesa >= 24,
# which works. This script:
#   1. does nothing if a WebGPU adapter already works (probe through node + webgpu);
#   2. otherwise adds the bookworm-backports suite on the same mirror as the machine's existing
#      Debian source (once), and installs mesa-vulkan-drivers from it;
#   3. says what it did. Running it again is harmless.
# Needs root (or sudo) for step 2. Set PATT_SKIP_GPU_SETUP=1 to skip it entirely.
set -euo pipefail

say() { printf '[setup-software-gpu] %s\n' "$*"; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "${PATT_SKIP_GPU_SETUP:-}" = "1" ]; then
  say "PATT_SKIP_GPU_SETUP=1: skipping."
  exit 0
fi

probe() {
  # Exit 0 when the webgpu package can create an adapter on this machine.
  [ -d "$here/node_modules/webgpu" ] || return 2
  (cd "$here" && timeout 60 node --input-type=module -e '
    import { create, globals } from "webgpu";
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const a = await gpu.requestAdapter();
    if (!a) process.exit(1);
    const info = a.info ?? {};
    console.log(`${info.vendor ?? "?"} / ${info.device || info.description || "?"} (${info.architecture ?? ""})`);
    process.exit(0);
  ' 2>/dev/null)
}

if out=$(probe); then
  say "a WebGPU adapter already works: $out. Nothing to do."
  exit 0
fi

if [ ! -r /etc/os-release ] || ! grep -q '^ID=debian' /etc/os-release; then
  say "no WebGPU adapter, and this is not Debian: install a Vulkan driver for your GPU, or"
  say "Mesa's lavapipe (>= 24) from your distribution, then run this again."
  exit 1
fi
codename=$(. /etc/os-release; echo "${VERSION_CODENAME:-}")
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    say "need root to install mesa-vulkan-drivers; run this script as root."; exit 1; fi
fi

installed_mesa() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true; }
major() { echo "$1" | sed -E 's/^[0-9]+://; s/^([0-9]+).*/\1/'; }

ver=$(installed_mesa)
if [ -n "$ver" ] && [ "$(major "$ver")" -ge 24 ]; then
  say "mesa-vulkan-drivers $ver is installed already."
else
  if [ "$codename" = "bookworm" ]; then
    # Find the mirror the machine already uses for Debian (deb822 or one-line format).
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
      | grep -v security | grep -oE 'https?://[^ ]+/debian/?' | head -n1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    mirror=${mirror%/}
    if ! grep -rqsE 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding bookworm-backports from $mirror"
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
        | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    else
      say "bookworm-backports is already configured"
    fi
    say "apt-get update"
    $SUDO apt-get update -qq
    say "installing mesa-vulkan-drivers from bookworm-backports (lavapipe)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports \
      mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    say "Debian $codename: installing mesa-vulkan-drivers from the distribution"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
  say "installed mesa-vulkan-drivers $(installed_mesa)"
fi

if out=$(probe); then
  say "WebGPU adapter: $out"
else
  rc=$?
  if [ "$rc" = "2" ]; then
    say "driver installed; run 'npm ci' and then this script again to probe the adapter."
  else
    say "the driver is installed but no WebGPU adapter was found; see README 'No adapter'."
    exit 1
  fi
fi
