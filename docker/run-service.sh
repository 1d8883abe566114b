#!/bin/sh
# Starts the service this image was built for ($SERVICE), or checks its health:
#   run-service               start it (extra arguments go to uvicorn or the worker)
#   run-service healthcheck   exit 0 when its /healthz answers
set -eu

case "${SERVICE:-}" in
  intake-ui)     module=intake_ui  port="${PORT:-8000}" ;;
  intake-api)    module=intake_api port="${PORT:-8001}" ;;
  admin-api)     module=admin_api  port="${PORT:-8002}" ;;
  intake-notify) module=""         port="${NOTIFY_METRICS_PORT:-8003}" ;;
  *) echo "run-service: unknown SERVICE='${SERVICE:-}'" >&2; exit 64 ;;
esac

if [ "${1:-}" = "healthcheck" ]; then
  exec python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' \
    "http://127.0.0.1:${port}/healthz"
fi

if [ -z "$module" ]; then
  export NOTIFY_METRICS_PORT="$port"
  exec python -m intake_notify.worker "$@"
fi

# One process per container: Kubernetes scales replicas, not uvicorn workers.
# Forwarded headers are trusted from FORWARDED_ALLOW_IPS only (the ingress, per NetworkPolicy).
exec uvicorn "${module}.main:app_from_environment" --factory \
  --host "${HOST:-0.0.0.0}" --port "$port" \
  --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
  --no-access-log --no-server-header --timeout-graceful-shutdown 20 "$@"
