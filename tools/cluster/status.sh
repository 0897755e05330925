#!/usr/bin/env bash
# Says what of the local cluster runs. Exit 0 when everything is up, 1 otherwise.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
ok=0
for c in $KWOK_COMPONENTS $OUR_COMPONENTS $REGISTRY_COMPONENT; do
  if pid=$(pid_of "$c"); then printf '  %-24s running (pid %s)\n' "$c" "$pid"
  else printf '  %-24s NOT running\n' "$c"; ok=1; fi
done
if api_ready; then
  printf '  %-24s ready (%s)\n' "API /readyz" "$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  node=$(kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
  printf '  %-24s %s\n' "node $NODE" "$([ "$node" = True ] && echo Ready || echo "NOT Ready ($node)")"
  [ "$node" = True ] || ok=1
  pg=$(pgrep -c -f -- "postgres -D $C/" 2>/dev/null || true)
  printf '  %-24s %s\n' "PostgreSQL servers" "${pg:-0}"
else
  printf '  %-24s NOT ready\n' "API /readyz"; ok=1
fi
[ $ok = 0 ] && echo "cluster: up   (export KUBECONFIG=$KUBECONFIG_FILE)" || echo "cluster: down or partly up"
exit $ok
