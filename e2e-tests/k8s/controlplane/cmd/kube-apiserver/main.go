// kube-apiserver built from the Kubernetes Go modules, for the end-to-end tests (no release binaries reachable here).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
