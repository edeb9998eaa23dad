package main

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// The performance pairs of docs/performance.md as go test benchmarks. Each
// pair's sides are sub-benchmarks named side=NAME, so that benchstat can put
// them in columns. go test runs a sub-benchmark's -count repetitions back
// to back, so to alternate the sides run go test in a loop:
//
//	for i in 1 2 3 4 5 6; do go test -run '^$' -bench 'Perf/P1' -benchtime 3000x ./cmd/ffatpm; done | tee p1.txt
//	benchstat -col /side p1.txt
//
// BenchmarkPerfPairs (below) interleaves the sides inside one benchmark.
//
// Every side also reports cpu-ns/op: the CPU time of the benchmark's OS
// thread (the simulator runs on it through cgo), which load from other
// processes does not inflate. "ffatpm bench" runs the same setups
// interleaved in blocks and prints the ratios.

// runSide runs one side as a benchmark, on a locked OS thread (so that
// cpu-ns/op is this thread's CPU time).
func runSide(b *testing.B, s benchSide) { runSideOpt(b, s, true) }

// runSideOpt with lock=false leaves the goroutine unlocked (socket sides:
// a locked thread turns every network wake-up into a thread hand-off) and
// reports no CPU time.
func runSideOpt(b *testing.B, s benchSide, lock bool) {
	b.Run("side="+s.name, func(b *testing.B) {
		if lock {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		b.ReportAllocs()
		if err := s.op(-1); err != nil { // warm-up
			b.Fatal(err)
		}
		c0 := threadCPU()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.op(i); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if c := threadCPU() - c0; c > 0 && lock {
			b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	})
}

func runSides(b *testing.B, sides []benchSide, done func(), err error) {
	if err != nil {
		var skip errSkipT
		if asSkip(err, &skip) {
			b.Skip(skip.why)
		}
		b.Fatal(err)
	}
	defer done()
	for _, s := range sides {
		runSide(b, s)
	}
}

func asSkip(err error, t *errSkipT) bool {
	s, ok := err.(errSkipT)
	if ok {
		*t = s
	}
	return ok
}

func BenchmarkPerf(b *testing.B) {
	be := &benchEnv{ctx: context.Background()}
	defer be.close()
	b.Run("P1", func(b *testing.B) {
		for _, c := range []benchCommand{{"PCR_Extend", benchPCRExtend}, {"GetRandom", benchGetRandom}, {"CreatePrimary", benchCreatePrimary}} {
			b.Run("cmd="+c.name, func(b *testing.B) {
				sides, done, err := p1Sides(be, c)
				runSides(b, sides, done, err)
			})
		}
	})
	b.Run("P2", func(b *testing.B) {
		for _, c := range []benchCommand{{"GetRandom", benchGetRandom}, {"PCR_Extend", benchPCRExtend}, {"PCR_Read", benchPCRRead}} {
			b.Run("cmd="+c.name, func(b *testing.B) {
				sides, done, err := p2Sides(be, c)
				if err != nil {
					runSides(b, nil, nil, err)
					return
				}
				defer done()
				for _, s := range sides {
					runSideOpt(b, s, false)
				}
			})
		}
	})
	b.Run("P3", func(b *testing.B) {
		sides, _, done, err := p3Sides(be)
		runSides(b, sides, done, err)
	})
	b.Run("P4", func(b *testing.B) {
		sides, _, done, err := p4Sides(be)
		runSides(b, sides, done, err)
	})
	b.Run("P6", func(b *testing.B) {
		sides, done, err := p6Ops()
		runSides(b, sides, done, err)
	})
	b.Run("P7", func(b *testing.B) {
		be.closeSimulator()
		sc, err := resolvedPreset("")
		if err != nil {
			b.Fatal(err)
		}
		runSide(b, benchSide{name: "default-boot", op: func(int) error { _, err := bootScenario(be.ctx, sc, bootOptions{}); return err }})
	})
}

// BenchmarkPerfExplore is P5: explore's whole space with the real
// simulator (in this process: a test binary cannot start ffatpm workers;
// "ffatpm bench" uses worker processes), and the model-only path.
func BenchmarkPerfExplore(b *testing.B) {
	be := &benchEnv{ctx: context.Background()}
	defer be.close()
	b.Run("path=simulator", func(b *testing.B) {
		for b.Loop() {
			r, err := benchExploreReal(be)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(r.Points), "boots/op")
			b.ReportMetric(r.PerCPUSec, "boots/cpu-s")
		}
	})
	b.Run("path=model-only", func(b *testing.B) {
		b.ReportAllocs()
		specs, err := fastSpecs(mustPoints(b))
		if err != nil {
			b.Fatal(err)
		}
		fb := newFastBooter()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c0 := threadCPU()
		i := 0
		for b.Loop() {
			if err := fb.boot(&specs[i%len(specs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "boots/s")
		if c := threadCPU() - c0; c > 0 {
			b.ReportMetric(float64(b.N)/c.Seconds(), "boots/cpu-s")
		}
	})
}

func mustPoints(b *testing.B) []point {
	ps, err := explorePoints()
	if err != nil {
		b.Fatal(err)
	}
	return ps
}

// BenchmarkPerfGrowth: G1 (measurements/s at 1k, 10k, 100k entries; the
// list is filled before each sub-benchmark) and G2 (one boot per order of
// k device-level initcalls).
func BenchmarkPerfGrowth(b *testing.B) {
	be := &benchEnv{ctx: context.Background()}
	defer be.close()
	b.Run("G1", func(b *testing.B) {
		sim, err := be.simulator()
		if err != nil {
			b.Fatal(err)
		}
		m, done, err := imaChain(sim)
		if err != nil {
			b.Fatal(err)
		}
		defer done()
		op := measureOp(m)
		for _, size := range []int{1000, 10000, 100000} {
			for m.List().Len() < size {
				if err := op(0); err != nil {
					b.Fatal(err)
				}
			}
			runSide(b, benchSide{name: fmt.Sprintf("entries=%d", size), op: op})
		}
	})
	b.Run("G2", func(b *testing.B) {
		for k := 3; k <= 7; k++ {
			b.Run(fmt.Sprintf("initcalls=%d", k), func(b *testing.B) {
				for b.Loop() {
					gs, err := benchPermutationGrowth(context.Background(), k, k)
					if err != nil {
						b.Fatal(err)
					}
					g := gs[len(gs)-1]
					b.ReportMetric(float64(g.Orders), "boots/op")
				}
			})
		}
	})
}

// BenchmarkPerfPairs runs each pair the way "ffatpm bench" does: b.N
// operations per side, interleaved in blocks whose side order alternates,
// on one locked thread; it reports every side's wall and CPU time per
// operation and the CPU ratio. (go test runs a sub-benchmark's -count
// repetitions back to back, so the side=... benchmarks above only
// alternate when go test is run in a loop with -count 1.)
//
//	go test -run '^$' -bench 'PerfPairs' -benchtime 3000x -count 5 ./cmd/ffatpm
func BenchmarkPerfPairs(b *testing.B) {
	be := &benchEnv{ctx: context.Background()}
	defer be.close()
	pair := func(b *testing.B, sides []benchSide, done func(), err error, block int) {
		if err != nil {
			b.Fatal(err)
		}
		defer done()
		res, err := measureSides(sides, b.N, block)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			b.ReportMetric(r.NsPerOp, r.Name+"-ns/op")
			b.ReportMetric(r.CPUNsOp, r.Name+"-cpu-ns/op")
		}
		b.ReportMetric(res[len(res)-1].CPUNsOp/res[0].CPUNsOp, res[len(res)-1].Name+"/"+res[0].Name+"-cpu")
	}
	for _, c := range []benchCommand{{"PCR_Extend", benchPCRExtend}, {"GetRandom", benchGetRandom}, {"CreatePrimary", benchCreatePrimary}} {
		b.Run("P1/cmd="+c.name, func(b *testing.B) {
			sides, done, err := p1Sides(be, c)
			pair(b, sides, done, err, 32)
		})
	}
	b.Run("P3", func(b *testing.B) {
		sides, _, done, err := p3Sides(be)
		if err == nil {
			sides = sides[:2] // raw go-tpm extend vs measurement
		}
		pair(b, sides, done, err, 32)
	})
	b.Run("P4", func(b *testing.B) {
		sides, _, done, err := p4Sides(be)
		pair(b, sides, done, err, 1)
	})
}
