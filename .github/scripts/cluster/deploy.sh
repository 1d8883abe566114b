#!/usr/bin/env bash
# Runs inside the aks-command pod (kubectl, helm, bash, jq) with the bundle deploy-env.yml
# attaches: chart/, values.yaml (the environment's), image-digests.json.
# Prints "previous-revision=<n>" first, so the workflow can roll back to it later.
#   bash deploy.sh <release> <namespace> <registry> <tag>
set -euo pipefail
release="$1"
namespace="$2"
registry="$3"
tag="$4"

previous="$(helm history "$release" --namespace "$namespace" --max 1 --output json 2> /dev/null \
  | jq -r '.[-1].revision // 0' || true)"
echo "previous-revision=${previous:-0}"

# The namespace exists already (docs/cicd.md): the deploy identity may not create namespaces.
# image.tag stays for `helm get values`; the digests decide what runs.
helm upgrade "$release" ./chart --install --namespace "$namespace" \
  --values values.yaml --values image-digests.json \
  --set-string image.registry="$registry" --set-string image.tag="$tag" \
  --atomic --wait --timeout 10m --history-max 20
helm status "$release" --namespace "$namespace"
helm get values "$release" --namespace "$namespace" --output json \
  | jq -r '.services | to_entries[] | "\(.key): \(.value.image.digest // "NO DIGEST")"'
