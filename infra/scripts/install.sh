#!/usr/bin/env bash
# Installs a RustChain release on a Debian/Ubuntu host and starts its services (Terraform user data runs it).
#
#   install.sh <rustchain-<version>.tar.gz> <service>...      service: validator | relayer | edge
#
# - creates the system user `rustchain` (no login shell, home /var/lib/rustchain);
# - unpacks the release to /opt/rustchain/releases/<version> and points /opt/rustchain/bin at its bin/ (an upgrade
#   is a new directory and a symlink switch; the previous release stays for a rollback);
# - creates /var/lib/rustchain (the datadir, the only path the services may write) and /etc/rustchain (settings,
#   root:rustchain 0750: node.json, *.env, keystores and password files; the release's *.example files are copied
#   there as templates);
# - installs the systemd units and runs `systemctl enable --now` on the services asked for.
# Node.js >= 22.15 must be installed (the release is compiled JavaScript run by `node`).
set -euo pipefail

usage() {
  echo "usage: $0 <rustchain-<version>.tar.gz> validator|relayer|edge..." >&2
  exit 2
}

[ "$#" -ge 2 ] || usage
tarball=$1
shift
[ -f "$tarball" ] || { echo "install.sh: no such file: $tarball" >&2; exit 2; }
for service in "$@"; do
  case "$service" in
    validator | relayer | edge) ;;
    *) usage ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

# The release uses zlib's zstd (snapshots), in Node.js since 22.15. systemd finds `node` on its default PATH
# (/usr/local/bin, /usr/bin): install Node.js there, not only in a login shell's PATH.
node_version=$(node -p 'process.versions.node' 2>/dev/null || echo none)
if ! node -e 'process.exit(typeof require("node:zlib").zstdDecompressSync === "function" ? 0 : 1)' 2>/dev/null; then
  echo "install.sh: Node.js >= 22.15 is required (found: ${node_version})" >&2
  exit 1
fi

prefix=/opt/rustchain
datadir=/var/lib/rustchain
confdir=/etc/rustchain

if ! getent group rustchain >/dev/null; then
  groupadd --system rustchain
fi
if ! getent passwd rustchain >/dev/null; then
  useradd --system --gid rustchain --home-dir "$datadir" --no-create-home --shell /usr/sbin/nologin rustchain
fi

install -d -m 0755 -o root -g root "$prefix" "$prefix/releases"
install -d -m 0750 -o rustchain -g rustchain "$datadir"
install -d -m 0750 -o root -g rustchain "$confdir"

# The archive holds one top-level directory, rustchain-<version>/.
name=$(tar -tzf "$tarball" | head -n 1 | cut -d/ -f1)
case "$name" in
  rustchain-*) ;;
  *) echo "install.sh: $tarball is not a RustChain release" >&2; exit 1 ;;
esac
staging=$(mktemp -d "$prefix/releases/.staging.XXXXXX")
tar -xzf "$tarball" -C "$staging" --no-same-owner
rm -rf "${prefix:?}/releases/$name"
mv "$staging/$name" "$prefix/releases/$name"
rmdir "$staging"
ln -sfn "releases/$name/bin" "$prefix/bin.new"
mv -T "$prefix/bin.new" "$prefix/bin"
echo "install.sh: installed $(cat "$prefix/releases/$name/VERSION") in $prefix/releases/$name"

# Examples of the settings next to the real files (never overwritten: node.json, *.env are the operator's).
for example in "$prefix/releases/$name"/config/*.example; do
  install -m 0640 -o root -g rustchain "$example" "$confdir/"
done

for unit in "$prefix/releases/$name"/systemd/*.service; do
  install -m 0644 -o root -g root "$unit" /etc/systemd/system/
done
systemctl daemon-reload

for service in "$@"; do
  systemctl enable "rustchain-$service.service"
  # restart, not start: an upgrade must load the new release
  systemctl restart "rustchain-$service.service"
done
