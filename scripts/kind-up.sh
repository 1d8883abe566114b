#!/usr/bin/env bash
# make kind-up: build the images, create the kind cluster, load the images and install the chart
# with the Cosmos DB and Service Bus emulators. Needs Docker, kind and kubectl; helm comes from
# scripts/install-infra-tools.sh. Run again to upgrade in place; `make kind-down` removes it.
#
#   KIND_CLUSTER   cluster name                     (default onboarding)
#   KIND_MODE      emulators | embedded (SQLite)    (default emulators)
#   IMAGE_TAG      tag of the images built here     (default kind-<git short sha>)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CLUSTER="${KIND_CLUSTER:-onboarding}"
MODE="${KIND_MODE:-emulators}"
TAG="${IMAGE_TAG:-kind-$(git rev-parse --short HEAD 2>/dev/null || echo local)}"
NAMESPACE="onboarding-kind"
INGRESS_NGINX_VERSION="controller-v1.12.1"
PACKAGES=(intake-ui intake-api admin-api intake-notify)

need() { command -v "$1" >/dev/null || { echo "kind-up: $1 is required ($2)" >&2; exit 1; }; }
need docker "https://docs.docker.com/engine/install/"
need kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
docker info >/dev/null 2>&1 || { echo "kind-up: the Docker engine is not running" >&2; exit 1; }

bash scripts/install-infra-tools.sh
HELM="$ROOT/.tools/bin/helm"

echo "==> building images (tag $TAG)"
for package in "${PACKAGES[@]}"; do
  docker build --file docker/Dockerfile --build-arg "PACKAGE=$package" \
    --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --tag "onboarding/$package:$TAG" .
done

echo "==> kind cluster $CLUSTER"
if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --config deploy/kind/cluster.yaml --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

echo "==> loading images"
for package in "${PACKAGES[@]}"; do
  kind load docker-image --name "$CLUSTER" "onboarding/$package:$TAG"
done

echo "==> ingress-nginx ($INGRESS_NGINX_VERSION)"
kubectl apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$INGRESS_NGINX_VERSION/deploy/static/provider/kind/deploy.yaml"
kubectl wait --namespace ingress-nginx --for=condition=Ready pod \
  --selector=app.kubernetes.io/component=controller --timeout=180s

echo "==> chart ($MODE)"
kubectl apply -f deploy/kind/namespace.yaml
values=(-f charts/onboarding/values-kind.yaml)
if [ "$MODE" = "embedded" ]; then
  values+=(-f deploy/kind/values-embedded.yaml)
elif [ "$MODE" = "emulators" ]; then
  echo "    Service Bus emulator and SQL Edge licences: https://github.com/Azure/azure-service-bus-emulator-installer"
else
  echo "kind-up: KIND_MODE must be emulators or embedded" >&2; exit 1
fi
"$HELM" upgrade --install onboarding charts/onboarding --namespace "$NAMESPACE" \
  "${values[@]}" --set "image.tag=$TAG" --wait --timeout 10m

echo
echo "onboarding is up: http://onboarding.localtest.me:8080  (namespace $NAMESPACE)"
echo "emails: kubectl -n $NAMESPACE exec deploy/onboarding-notify -- ls /data/mail"
