package main

func printTrace(e *env, rep *bootReport, kinds map[string]bool, o *traceOptions) int {
	return exitOK
}
