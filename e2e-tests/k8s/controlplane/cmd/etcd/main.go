// etcd built from its Go module, for the end-to-end tests (Debian's etcd is older than the API server supports).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
