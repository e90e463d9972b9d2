package deferred_test

import (
	"testing"

	"github.com/twinego/twine/deferred"
)

func lenOf(v []int) ([]int, error) {
	if len(v) != 1000 {
		panic("All lost results")
	}
	return v, nil
}

// BenchmarkAll1000 mirrors Twisted's gatherResults over 1,000 succeed()
// Deferreds with a callback on the result; creating the 1,000 is part of
// the operation, as in bench/twisted/deferred_bench.py.
func BenchmarkAll1000(b *testing.B) {
	ds := make([]*deferred.Deferred[int], 1000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range ds {
			ds[i] = deferred.Succeed(i)
		}
		deferred.All(ds...).AddCallback(lenOf)
	}
}

// BenchmarkAll1000Pending is All over 1,000 Deferreds that fire after it:
// one step is added to each chain.
func BenchmarkAll1000Pending(b *testing.B) {
	ds := make([]*deferred.Deferred[int], 1000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range ds {
			ds[i] = deferred.New[int]()
		}
		all := deferred.All(ds...).AddCallback(lenOf)
		for i, d := range ds {
			d.Callback(i)
		}
		if !all.Called() {
			b.Fatal("All did not fire")
		}
	}
}

// BenchmarkList1000 is List over 1,000 fired Deferreds.
func BenchmarkList1000(b *testing.B) {
	ds := make([]*deferred.Deferred[int], 1000)
	b.ReportAllocs()
	for b.Loop() {
		for i := range ds {
			ds[i] = deferred.Succeed(i)
		}
		deferred.List(ds)
	}
}

// BenchmarkRace10 races ten pending Deferreds: the first to fire wins and
// the other nine are cancelled.
func BenchmarkRace10(b *testing.B) {
	ds := make([]*deferred.Deferred[int], 10)
	b.ReportAllocs()
	for b.Loop() {
		for i := range ds {
			ds[i] = deferred.New[int]()
		}
		deferred.Race(ds...)
		ds[3].Callback(3)
	}
}
