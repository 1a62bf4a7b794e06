#!/usr/bin/env bash
# Installs everything sandvisor and its tests need on a fresh Debian 12 machine (root):
# Debian packages, then a virtualenv in .venv with the project and its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

# strace: the ptrace tests; podman, conmon, runc, containerd: the OCI client tests;
# runsc, proot: the runtimes docs/CONFORMANCE.md compares against; bubblewrap: the benchmarks' floor
# python3-dev: the headers the native helper (sentry/native.c, cffi API mode) builds against
APT_PACKAGES=(libseccomp-dev busybox-static gcc make libc6-dev python3-dev python3-venv strace
              podman conmon runc containerd fuse-overlayfs runsc proot bubblewrap)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# /usr/bin/python3 when there is one: a venv on it is usable by every user (the rootless
# tests run sandvisor as an unprivileged account); a python under /root would not be
PYTHON=${PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# compat: the checkout goes on sys.path through a .pth line; the default editable finder
# costs every `sandvisor` start-up ~30 ms of imports (pathlib, fnmatch, importlib.util)
if ! .venv/bin/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat \
        >.venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    exit 1
fi
# bytecode now, by the owner of the checkout: a user who cannot write __pycache__ (the
# rootless tests' account) would otherwise compile every module at every start-up
.venv/bin/python -m compileall -q sentry gofer syscalls >/dev/null
echo "sandvisor installed: $(.venv/bin/sandvisor --version)"
