// Command stocks runs the kubesaga stocks participant service.
package main

import (
	"os"

	"github.com/kubesaga/kubesaga/services/serve"
	"github.com/kubesaga/kubesaga/services/stocks"
)

func main() { os.Exit(serve.Main(stocks.Name, stocks.Open)) }
