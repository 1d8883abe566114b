#!/usr/bin/env bash
# Runs inside the aks-command pod: undo a deployment whose smoke test or SLO check failed.
#   bash rollback.sh <release> <namespace> <previous-revision>   (0 = it was a first install)
set -euo pipefail
release="$1"
namespace="$2"
previous="$3"
if [ "$previous" -gt 0 ]; then
  helm rollback "$release" "$previous" --namespace "$namespace" --wait --timeout 10m
  echo "rolled ${namespace} back to revision ${previous}"
else
  echo "first install failed its checks: nothing to roll back to; uninstalling"
  helm uninstall "$release" --namespace "$namespace" --wait
fi
