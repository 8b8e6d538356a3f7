// Command ssm-setup installs, configures and removes the AWS Systems Manager Agent.
// See the README and `ssm-setup --help`.
package main

import "os"

func main() { os.Exit(Main()) }
