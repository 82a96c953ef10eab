// Command sales runs the kubesaga sales participant service.
package main

import (
	"os"

	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/serve"
)

func main() { os.Exit(serve.Main(sales.Name, sales.Open)) }
