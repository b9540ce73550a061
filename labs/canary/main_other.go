//go:build !windows

package main

import "os"

func main() { os.Exit(runConsole(os.Args[1:], os.Stderr)) }
