#!/usr/bin/env bash
# Says what of the local cluster runs. Exit 0 when everything is up, 1 otherwise.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$HERE/node.sh"
ok=0
extra=""; [ -d "$REAL_STATE" ] && extra=$REAL_NODE_COMPONENTS
for c in $KWOK_COMPONENTS $OUR_COMPONENTS $REGISTRY_COMPONENT $extra; do
  if pid=$(pid_of "$c"); then printf '  %-24s running (pid %s)\n' "$c" "$pid"
  else printf '  %-24s NOT running\n' "$c"; ok=1; fi
done
if api_ready; then
  printf '  %-24s ready (%s)\n' "API /readyz" "$(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  node=$(kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
  printf '  %-24s %s\n' "node $NODE" "$([ "$node" = True ] && echo Ready || echo "NOT Ready ($node)")"
  [ "$node" = True ] || ok=1
  if [ -d "$REAL_STATE" ]; then
    printf '  %-24s %s\n' "node $REAL_NODE" "$(real_node_ready && echo Ready || echo 'NOT Ready')"
    real_node_ready || ok=1
  fi
  pg=$(pgrep -c -f -- "postgres -D $C/" 2>/dev/null || true)
  printf '  %-24s %s\n' "PostgreSQL servers" "${pg:-0}"
else
  printf '  %-24s NOT ready\n' "API /readyz"; ok=1
fi
[ $ok = 0 ] && echo "cluster: up   (export KUBECONFIG=$KUBECONFIG_FILE)" || echo "cluster: down or partly up"
exit $ok
