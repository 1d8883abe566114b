#!/usr/bin/env bash
# Runs inside the aks-command pod: scale a namespace's deployments to zero overnight (their replica
# counts kept in an annotation, KEDA paused at zero) or restore them in the morning.
#   bash scale-workloads.sh <stop|start> <namespace> <annotation>
set -euo pipefail
action="$1"
namespace="$2"
annotation="$3"

for deployment in $(kubectl get deployments --namespace "$namespace" -o name); do
  if [ "$action" = stop ]; then
    replicas="$(kubectl get "$deployment" --namespace "$namespace" -o jsonpath='{.spec.replicas}')"
    [ "$replicas" = 0 ] && continue
    kubectl annotate "$deployment" --namespace "$namespace" --overwrite "${annotation}=${replicas}"
    kubectl scale "$deployment" --namespace "$namespace" --replicas=0
  else
    path="{.metadata.annotations.${annotation//./\\.}}"
    replicas="$(kubectl get "$deployment" --namespace "$namespace" -o jsonpath="$path")"
    [ -n "$replicas" ] || continue
    kubectl scale "$deployment" --namespace "$namespace" --replicas="$replicas"
    kubectl annotate "$deployment" --namespace "$namespace" "${annotation}-"
  fi
done
# KEDA would scale notify straight back up: pause it at zero overnight.
for scaled in $(kubectl get scaledobjects.keda.sh --namespace "$namespace" -o name 2> /dev/null); do
  if [ "$action" = stop ]; then
    kubectl annotate "$scaled" --namespace "$namespace" --overwrite autoscaling.keda.sh/paused-replicas=0
  else
    kubectl annotate "$scaled" --namespace "$namespace" autoscaling.keda.sh/paused-replicas-
  fi
done
