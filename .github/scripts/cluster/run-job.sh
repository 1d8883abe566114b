#!/usr/bin/env bash
# Runs inside the aks-command pod (kubectl, bash, jq): apply manifests.json (NetworkPolicies,
# ConfigMap, Job), wait for the Job, print its log, remove it all again. Exit 0 only when the
# Job succeeded. The pod's output is capped at 512 kB: the log is tailed.
#   bash run-job.sh <namespace> [timeout-seconds]
set -uo pipefail
namespace="$1"
timeout="${2:-600}"
job="$(tr -d '[:space:]' < job-name)"

cleanup() {
  kubectl delete --namespace "$namespace" --filename manifests.json --ignore-not-found \
    --wait=false > /dev/null 2>&1 || true
}
trap cleanup EXIT

# A Job left over from a cancelled run has the same name: start from a clean slate.
cleanup
kubectl wait --namespace "$namespace" --for=delete "job/${job}" --timeout=60s > /dev/null 2>&1 || true
kubectl apply --namespace "$namespace" --filename manifests.json || exit 1

status=timeout
deadline=$((SECONDS + timeout))
while [ "$SECONDS" -lt "$deadline" ]; do
  counts="$(kubectl get job "$job" --namespace "$namespace" --output json \
    | jq -r '"\(.status.succeeded // 0) \(.status.failed // 0)"')" || counts="0 0"
  read -r succeeded failed <<< "$counts"
  if [ "$succeeded" -ge 1 ]; then status=succeeded; break; fi
  if [ "$failed" -ge 1 ]; then status=failed; break; fi
  sleep 5
done

kubectl logs --namespace "$namespace" "job/${job}" --tail=400 || true
if [ "$status" != succeeded ]; then
  kubectl get pods --namespace "$namespace" --selector "job-name=${job}" --output wide || true
  kubectl get events --namespace "$namespace" --field-selector "involvedObject.kind=Pod" \
    --sort-by=.lastTimestamp 2> /dev/null | grep -F "$job" | tail -n 20 || true
fi
echo "job ${job}: ${status}"
[ "$status" = succeeded ]
