package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// exploreRealResult is P5's first half: "ffatpm explore" over the whole
// space with the real simulator.
type exploreRealResult struct {
	Points     int           `json:"points"`
	Workers    int           `json:"workers"`
	Wall       time.Duration `json:"wall_ns"`
	ChildCPU   time.Duration `json:"worker_cpu_ns"` // CPU time of the worker processes (getrusage RUSAGE_CHILDREN)
	SelfCPU    time.Duration `json:"self_cpu_ns"`
	BootsPerS  float64       `json:"boots_per_s"`
	PerCore    float64       `json:"boots_per_s_per_core"`
	PerCPUSec  float64       `json:"boots_per_cpu_s"`
	InProcess  bool          `json:"in_process"` // no executable to start workers from (go test): booted in this process
	Verdicts   map[string]int
	FirstError string `json:"first_error,omitempty"`
}

// benchExploreReal runs explore's whole space the way "ffatpm explore"
// does: worker processes (one per CPU) each with its own simulator.
func benchExploreReal(be *benchEnv) (*exploreRealResult, error) {
	be.closeSimulator() // the workers (or runJobs in-process) open their own
	points, err := explorePoints()
	if err != nil {
		return nil, err
	}
	workers := runtime.NumCPU()
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, self: be.self}
	inProc := be.self == ""
	if inProc {
		workers = 1
	}
	c0, s0 := processCPU(syscall.RUSAGE_CHILDREN), processCPU(syscall.RUSAGE_SELF)
	t0 := time.Now()
	results, err := runPoints(be.ctx, e, points, workers)
	wall := time.Since(t0)
	if err != nil {
		return nil, err
	}
	computeFixes(results) // part of explore's answer
	r := &exploreRealResult{Points: len(points), Workers: workers, Wall: wall, InProcess: inProc,
		ChildCPU: processCPU(syscall.RUSAGE_CHILDREN) - c0, SelfCPU: processCPU(syscall.RUSAGE_SELF) - s0,
		Verdicts: countVerdicts(results)}
	for _, x := range results {
		if x.Error != "" && r.FirstError == "" {
			r.FirstError = x.Error
		}
	}
	r.BootsPerS = float64(len(points)) / wall.Seconds()
	r.PerCore = r.BootsPerS / float64(workers)
	cpu := r.ChildCPU
	if inProc {
		cpu = r.SelfCPU
	}
	if cpu > 0 {
		r.PerCPUSec = float64(len(points)) / cpu.Seconds()
	}
	return r, nil
}

// fastSpec is one explore point ready for the model-only path.
type fastSpec struct {
	spec     kernel.Spec
	imaLevel kernel.Level
}

// fastSpecs turns explore's points into kernel specs for the model-only
// path: kerneltest's FastWorld (a minimal FF-A/CRB secure world) and
// FakeTPM instead of the SPMC, partition, CRB models and the simulator,
// and kerneltest.IMAProbe standing in for init_ima.
func fastSpecs(points []point) ([]fastSpec, error) {
	out := make([]fastSpec, 0, len(points))
	for _, p := range points {
		spec, err := kernelSpec(p.scenario())
		if err != nil {
			return nil, err
		}
		spec.Quiet = true
		lvl := kernel.LevelLate
		if spec.Config.Builtin("IMA_INIT_LATE_SYNC") {
			lvl = kernel.LevelLateSync
		}
		out = append(out, fastSpec{spec: spec, imaLevel: lvl})
	}
	return out, nil
}

// fastBooter boots specs on its own FastWorld, with one IMAProbe reset
// before each boot.
type fastBooter struct {
	w     *kerneltest.FastWorld
	pl    kernel.Platform
	probe kerneltest.IMAProbe
	calls map[kernel.Level][]kernel.Initcall // the probe at each level, built once
}

func newFastBooter() *fastBooter {
	w, pl := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	f := &fastBooter{w: w, pl: pl, calls: map[kernel.Level][]kernel.Initcall{}}
	for _, l := range []kernel.Level{kernel.LevelLate, kernel.LevelLateSync} {
		f.calls[l] = []kernel.Initcall{f.probe.Initcall(l)}
	}
	return f
}

func (f *fastBooter) boot(fs *fastSpec, extra ...kernel.Initcall) error {
	f.w.Reset()
	f.probe = kerneltest.IMAProbe{}
	spec := fs.spec
	spec.Platform = f.pl
	spec.Initcalls = f.calls[fs.imaLevel]
	if len(fs.spec.Initcalls) > 0 || len(extra) > 0 {
		spec.Initcalls = append(append(append([]kernel.Initcall(nil), spec.Initcalls...), fs.spec.Initcalls...), extra...)
	}
	_, err := kernel.Boot(spec)
	return err
}

// fastResult is P5's second half.
type fastResult struct {
	Boots      int           `json:"boots"`
	Goroutines int           `json:"goroutines"`
	Wall       time.Duration `json:"wall_ns"`
	CPU        time.Duration `json:"cpu_ns"`
	BootsPerS  float64       `json:"boots_per_s"`
	PerCPUSec  float64       `json:"boots_per_cpu_s"`
	IdleCores  float64       `json:"boots_per_s_all_cores_from_cpu"` // boots per CPU-second x CPUs: the rate on an otherwise idle machine
	// OneThread is boots per thread CPU-second of one locked goroutine
	// (no GC workers, no second core sharing caches): the upper bound
	// per core.
	OneThread float64 `json:"boots_per_thread_cpu_s"`
}

// benchExploreFast boots explore's space over and over on the model-only
// path, one goroutine per CPU, until total boots are done.
func benchExploreFast(ctx context.Context, total int) (*fastResult, error) {
	points, err := explorePoints()
	if err != nil {
		return nil, err
	}
	specs, err := fastSpecs(points)
	if err != nil {
		return nil, err
	}
	g := runtime.NumCPU()
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	c0, t0 := processCPU(syscall.RUSAGE_SELF), time.Now()
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fb := newFastBooter()
			for {
				i := int(next.Add(1)) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				if err := fb.boot(&specs[i%len(specs)]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("point %d: %v", i%len(specs), err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	wall, cpu := time.Since(t0), processCPU(syscall.RUSAGE_SELF)-c0
	if firstErr != nil {
		return nil, firstErr
	}
	r := &fastResult{Boots: total, Goroutines: g, Wall: wall, CPU: cpu, BootsPerS: float64(total) / wall.Seconds()}
	if cpu > 0 {
		r.PerCPUSec = float64(total) / cpu.Seconds()
		r.IdleCores = r.PerCPUSec * float64(g)
	}
	// One pass over the space on one locked thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fb := newFastBooter()
	n := min(total, 4*len(specs))
	c1 := threadCPU()
	for i := 0; i < n; i++ {
		if err := fb.boot(&specs[i%len(specs)]); err != nil {
			return nil, err
		}
	}
	if c := threadCPU() - c1; c > 0 {
		r.OneThread = float64(n) / c.Seconds()
	}
	return r, nil
}

// growthPoint is explore's cost for k initcalls permuted at device level.
type growthPoint struct {
	Initcalls int           `json:"initcalls"`
	Orders    int           `json:"orders"`
	Wall      time.Duration `json:"wall_ns"`
	CPU       time.Duration `json:"cpu_ns"`
	PerBootNs float64       `json:"ns_per_boot"`
	CPUPerOp  float64       `json:"cpu_ns_per_boot"`
}

// benchPermutationGrowth boots every order of k device-level initcalls
// (the three relevant ones plus k-3 empty initcalls) on the model-only
// path, for k from minK (at least 3) to maxK, on one thread.
func benchPermutationGrowth(ctx context.Context, minK, maxK int) ([]growthPoint, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := point{FFA: "y", CRB: "y", CRBFFA: "y", FFAInitcall: "device", CRBFFARegister: false, IMALate: "off"}
	dev, _, err := relevantInitcalls(p)
	if err != nil {
		return nil, err
	}
	base, err := fastSpecs([]point{p})
	if err != nil {
		return nil, err
	}
	fb := newFastBooter()
	var out []growthPoint
	for k := max(minK, len(dev)); k <= maxK; k++ {
		names := append([]string(nil), dev...)
		var extra []kernel.Initcall
		for i := len(dev); i < k; i++ {
			n := fmt.Sprintf("bench_empty_%d_init", i)
			names = append(names, n)
			extra = append(extra, kernel.Initcall{Name: n, Level: kernel.LevelDevice, Fn: func(*kernel.Kernel) error { return nil }})
		}
		perms := permutations(names)
		c0, t0 := threadCPU(), time.Now()
		for _, order := range perms {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			fs := base[0]
			fs.spec.Order = fs.spec.Order.Clone()
			fs.spec.Order.Set(kernel.LevelDevice, order...)
			if err := fb.boot(&fs, extra...); err != nil {
				return nil, fmt.Errorf("k=%d order %v: %v", k, order, err)
			}
		}
		wall, cpu := time.Since(t0), threadCPU()-c0
		out = append(out, growthPoint{Initcalls: k, Orders: len(perms), Wall: wall, CPU: cpu,
			PerBootNs: float64(wall.Nanoseconds()) / float64(len(perms)), CPUPerOp: float64(cpu.Nanoseconds()) / float64(len(perms))})
	}
	return out, nil
}

// bootProcessResult is "ffatpm boot" run as a process.
type bootProcessResult struct {
	Runs     int           `json:"runs"`
	Wall     time.Duration `json:"wall_ns_per_boot"`
	ChildCPU time.Duration `json:"cpu_ns_per_boot"`
}

// benchBootProcess runs "ffatpm boot" (the default scenario, output to
// /dev/null) runs times as a child process.
func benchBootProcess(ctx context.Context, self string, runs int) (*bootProcessResult, error) {
	if self == "" {
		return nil, nil
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	c0, t0 := processCPU(syscall.RUSAGE_CHILDREN), time.Now()
	for i := 0; i < runs; i++ {
		cmd := exec.CommandContext(ctx, self, "boot")
		cmd.Args[0] = "ffatpm"
		cmd.Stdout, cmd.Stderr = devnull, devnull
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("ffatpm boot: %v", err)
		}
	}
	wall, cpu := time.Since(t0), processCPU(syscall.RUSAGE_CHILDREN)-c0
	return &bootProcessResult{Runs: runs, Wall: wall / time.Duration(runs), ChildCPU: cpu / time.Duration(runs)}, nil
}
