package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"

	"github.com/ffatpm/ffatpm/crb/engine"
)

// workerCommand is the hidden subcommand explore starts in each worker
// process. The TPM simulator is one per process, so parallel boots need
// separate processes.
const workerCommand = "__worker"

// runWorker boots the scenario of each job line read on stdin and writes one
// result line per job on stdout, in the order read.
func runWorker(ctx context.Context, e *env, args []string) int {
	if len(args) != 0 {
		fmt.Fprintln(e.stderr, "ffatpm __worker: takes no arguments (jobs come on stdin)")
		return exitUsage
	}
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
	if err != nil {
		fmt.Fprintf(e.stderr, "ffatpm __worker: %v\n", err)
		return exitError
	}
	defer sim.Close()
	var kr kernelJobRunner
	in := bufio.NewScanner(e.stdin)
	in.Buffer(make([]byte, 64*1024), maxScenarioSize)
	out := bufio.NewWriter(e.stdout)
	for in.Scan() {
		var j jobLine
		if err := json.Unmarshal(in.Bytes(), &j); err != nil || (j.Scenario == nil) == (j.Kernel == nil) {
			fmt.Fprintf(e.stderr, "ffatpm __worker: bad job line: %v\n", err)
			return exitUsage
		}
		res := runJob(ctx, &j, sim, &kr)
		out.Write(marshalLine(res))
		if err := out.Flush(); err != nil {
			return exitError
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(e.stderr, "ffatpm __worker: reading jobs: %v\n", err)
		return exitError
	}
	return exitOK
}

func bootPoint(ctx context.Context, id int, sc *scenario, sim *engine.Simulator) resultLine {
	rep, err := bootScenario(ctx, sc, bootOptions{quiet: true, sim: sim})
	if err != nil {
		return resultLine{ID: id, Error: oneLine(err.Error())}
	}
	return resultLine{ID: id, Verdict: rep.Verdict, TPMRegistered: rep.TPMRegistered, Lost: len(rep.LostMeasurements)}
}

// workerCount decides how many worker processes explore starts.
func workerCount(e *env, flagValue, jobs int) int {
	n := flagValue
	if n == 0 {
		if v, err := strconv.Atoi(e.getenv("FFATPM_WORKERS")); err == nil && v > 0 {
			n = v
		} else {
			n = runtime.NumCPU()
		}
	}
	if n > jobs {
		n = jobs
	}
	if n < 1 {
		n = 1
	}
	return n
}

// runJob boots one job in this process.
func runJob(ctx context.Context, j *jobLine, sim *engine.Simulator, kr *kernelJobRunner) resultLine {
	if j.Kernel != nil {
		return kr.run(ctx, j.ID, j.Kernel, sim)
	}
	return bootPoint(ctx, j.ID, j.Scenario, sim)
}

// runPoints boots every point and returns the results in the order of
// points.
func runPoints(ctx context.Context, e *env, points []point, workers int) ([]exploreResult, error) {
	jobs := make([]jobLine, len(points))
	for i, p := range points {
		jobs[i] = jobLine{ID: i, Scenario: p.scenario()}
	}
	answers, err := runJobs(ctx, e, jobs, workers)
	if err != nil {
		return nil, err
	}
	results := make([]exploreResult, len(points))
	for i, a := range answers {
		results[i] = exploreResult{Point: points[i], Verdict: a.Verdict, TPMRegistered: a.TPMRegistered, Lost: a.Lost, Error: a.Error}
	}
	return results, nil
}

// runJobs boots every job, in worker processes when more than one is
// wanted (the TPM simulator is one per process), and returns the answers
// in the order of jobs. Job IDs must be their index.
func runJobs(ctx context.Context, e *env, jobs []jobLine, workers int) ([]resultLine, error) {
	answers := make([]resultLine, len(jobs))
	n := workerCount(e, workers, len(jobs))
	progress := newProgress(e, len(jobs))
	record := func(r resultLine) {
		answers[r.ID] = r
		progress.step()
	}
	if n == 1 || e.self == "" {
		sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
		if err != nil {
			return nil, err
		}
		defer sim.Close()
		var kr kernelJobRunner
		for i := range jobs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			record(runJob(ctx, &jobs[i], sim, &kr))
		}
		return answers, nil
	}
	feed := make(chan int)
	errs := make(chan error, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runWorkerProcess(ctx, e.self, jobs, feed, func(r resultLine) {
				mu.Lock()
				defer mu.Unlock()
				record(r)
			})
		}()
	}
	go func() {
		defer close(feed)
		for i := range jobs {
			select {
			case feed <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return answers, nil
}

// runWorkerProcess starts one worker and feeds it jobs one at a time, so
// that the faster workers take more of them.
func runWorkerProcess(ctx context.Context, self string, all []jobLine, jobs <-chan int, record func(resultLine)) error {
	cmd := exec.CommandContext(ctx, self, workerCommand)
	cmd.Args[0] = "ffatpm" // testscript dispatches on argv[0]
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting a worker process: %v", err)
	}
	out := bufio.NewScanner(stdout)
	var runErr error
	for id := range jobs {
		if _, err := stdin.Write(marshalLine(all[id])); err != nil {
			runErr = fmt.Errorf("worker: %v", err)
			break
		}
		if !out.Scan() {
			runErr = errors.New("a worker process stopped before answering")
			break
		}
		var r resultLine
		if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.ID != id {
			runErr = fmt.Errorf("a worker process answered %q to job %d", out.Text(), id)
			break
		}
		record(r)
	}
	stdin.Close()
	if runErr != nil {
		for range jobs {
			// drain so the feeder does not block
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return runErr
	}
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("worker process: %v", err)
	}
	return nil
}

// progress prints "booted N/M" on stderr when it is a terminal.
type progress struct {
	e          *env
	total, got int
}

func newProgress(e *env, total int) *progress { return &progress{e: e, total: total} }

func (p *progress) step() {
	p.got++
	if p.e.stderrIsTerminal && (p.got%16 == 0 || p.got == p.total) {
		fmt.Fprintf(p.e.stderr, "\rffatpm explore: booted %d/%d", p.got, p.total)
	}
}
