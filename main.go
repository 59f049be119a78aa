// Command botpool is the Pulumi program: `pulumi up --stack dev` deploys the dev pool.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/botpool/botpool/config"
	"github.com/botpool/botpool/program"
)

func main() {
	pulumi.Run(program.New(config.Options{}))
}
