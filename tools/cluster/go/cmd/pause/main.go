// pause is the real node's pod sandbox process (the image containerd's CRI names as sandbox_image): it holds the
// pod's namespaces and blocks until SIGTERM or SIGINT. Built here because no public registry can be reached.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
