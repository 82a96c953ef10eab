// Command stocks runs the kubesaga stocks participant service.
package main

import (
	"os"

	"github.com/kubesaga/kubesaga/services/stocks"
	"github.com/kubesaga/kubesaga/services/serve"
)

func main() { os.Exit(serve.Main(stocks.Name, stocks.Open)) }
