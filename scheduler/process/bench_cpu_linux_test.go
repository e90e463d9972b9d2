package process_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkRoundTripCPU is BenchmarkRoundTrip reporting the CPU time that
// each process spends on a call: on a machine with few cores, what one side
// spends delays the other. Compare with BenchmarkPipeEchoCPU.
func BenchmarkRoundTripCPU(b *testing.B) {
	r, p := benchPool(b, 1)
	pid := p.Workers()[0]
	b.ReportAllocs()
	parent, child := selfCPU(b), procCPU(b, pid)
	roundTrips(b, r, p)
	reportCPU(b, selfCPU(b)-parent, procCPU(b, pid)-child)
}

// BenchmarkPipeEchoCPU is BenchmarkPipeEcho reporting the CPU time of each
// process, as BenchmarkRoundTripCPU does.
func BenchmarkPipeEchoCPU(b *testing.B) {
	stdin, stdout, pid := startEchoPID(b)
	b.ReportAllocs()
	parent, child := selfCPU(b), procCPU(b, pid)
	echoRounds(b, stdin, stdout)
	reportCPU(b, selfCPU(b)-parent, procCPU(b, pid)-child)
}

func reportCPU(b *testing.B, parent, child time.Duration) {
	b.ReportMetric(float64(parent.Nanoseconds())/float64(b.N), "parent-cpu-ns/op")
	b.ReportMetric(float64(child.Nanoseconds())/float64(b.N), "child-cpu-ns/op")
}

// selfCPU is the CPU time this process has used, user and system.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the CPU time process pid has used, user and system, in clock
// ticks of 10 ms (Linux's USER_HZ): run enough calls for a few hundred.
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(b, err)
	s := string(data)
	// The fields after the command, which is in parentheses and may hold
	// anything, start with the state; utime and stime are the 12th and 13th.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	require.Greater(b, len(f), 12)
	utime, err := strconv.ParseInt(f[11], 10, 64)
	require.NoError(b, err)
	stime, err := strconv.ParseInt(f[12], 10, 64)
	require.NoError(b, err)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
