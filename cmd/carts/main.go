// Command carts runs the kubesaga carts participant service.
package main

import (
	"os"

	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/serve"
)

func main() { os.Exit(serve.Main(carts.Name, carts.Open)) }
