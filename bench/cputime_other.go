//go:build !unix

package main

import "time"

// cpuTime returns zero: this system's processor time is not read here.
func cpuTime() time.Duration { return 0 }
