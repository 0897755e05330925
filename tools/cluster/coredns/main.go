// CoreDNS for the local cluster's real node (tools/cluster/node.sh): coremain with only the plugins its Corefile uses,
// the way CoreDNS documents a trimmed build (its own main sets dnsserver.Directives). build.sh copies this file into
// a wrapper module of its own next to github.com/coredns/coredns at COREDNS_VERSION.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

// In CoreDNS's own order (plugin.cfg): a plugin sees the requests of those below it.
func init() {
	dnsserver.Directives = []string{"bind", "ready", "errors", "kubernetes"}
}

func main() {
	coremain.Run()
}
