// pause holds a pod's namespaces open for as long as the pod lives: the sandbox ("infra")
// container that containerd starts first in every pod. registry.k8s.io cannot be reached from the
// local node, so the node's sandbox image is built from this program.
//
// As PID 1 of the pod it reaps the zombies of processes that share its PID namespace, and it
// exits at once on SIGTERM or SIGINT, so a pod stops without waiting out a kill timeout.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		// Reap every child that has exited; more than one may stand behind one SIGCHLD.
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
