#!/usr/bin/env bash
# Runs inside the aks-command pod (kubectl, bash, jq): apply manifests.json (NetworkPolicies,
# ConfigMap, Job), wait for the Job, print its log, remove it all again. Exit 0 only when the
# Job succeeded. The pod's output is capped at 512 kB: the log is tailed (400 lines), unless a
# file log-lines says `all` (on-call's erasures Jobs: a list must come back whole or not at all).
# With a file image-from (on-call's dlq and erasures Jobs), the Job runs the image of that
# Deployment.
#   bash run-job.sh <namespace> [timeout-seconds]
set -uo pipefail
namespace="$1"
timeout="${2:-600}"
job="$(tr -d '[:space:]' < job-name)"
tail=400
if [ -f log-lines ] && [ "$(tr -d '[:space:]' < log-lines)" = all ]; then tail=-1; fi

cleanup() {
  kubectl delete --namespace "$namespace" --filename manifests.json --ignore-not-found \
    --wait=false > /dev/null 2>&1 || true
}
trap cleanup EXIT

# A Job that runs as a service account gets no pod while the account is missing (the operator's
# is rendered by the chart with operator.enabled): say so now rather than wait for nothing.
account="$(jq -r '[.items[] | select(.kind == "Job") | .spec.template.spec.serviceAccountName // empty][0] // empty' manifests.json)"
if [ -n "$account" ] && ! kubectl get serviceaccount "$account" --namespace "$namespace" > /dev/null; then
  echo "job ${job}: service account ${account} not found in ${namespace}"
  exit 1
fi

# A Job left over from a cancelled run has the same name: start from a clean slate.
cleanup
kubectl wait --namespace "$namespace" --for=delete "job/${job}" --timeout=60s > /dev/null 2>&1 || true
if [ -f image-from ]; then
  # The code that is deployed, whatever its digest: the image the Deployment's pods run.
  deployment="$(tr -d '[:space:]' < image-from)"
  image="$(kubectl get deployment "$deployment" --namespace "$namespace" \
    --output 'jsonpath={.spec.template.spec.containers[0].image}')" || exit 1
  if [ -z "$image" ]; then
    echo "job ${job}: deployment/${deployment} names no image"
    exit 1
  fi
  echo "job ${job}: image of deployment/${deployment}: ${image}"
  jq --arg image "$image" \
    '(.items[] | select(.kind == "Job") | .spec.template.spec.containers[].image) = $image' \
    manifests.json | kubectl apply --namespace "$namespace" --filename - || exit 1
else
  kubectl apply --namespace "$namespace" --filename manifests.json || exit 1
fi

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

kubectl logs --namespace "$namespace" "job/${job}" --tail="$tail" || true
if [ "$status" != succeeded ]; then
  kubectl get pods --namespace "$namespace" --selector "job-name=${job}" --output wide || true
  kubectl get events --namespace "$namespace" --field-selector "involvedObject.kind=Pod" \
    --sort-by=.lastTimestamp 2> /dev/null | grep -F "$job" | tail -n 20 || true
fi
echo "job ${job}: ${status}"
[ "$status" = succeeded ]
