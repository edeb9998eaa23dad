package main

import "context"

// dispatchServe hands "ffatpm serve" to runServe (serve.go).
func dispatchServe(ctx context.Context, e *env, args []string) int {
	return runServe(ctx, args, e.stdout, e.stderr)
}
