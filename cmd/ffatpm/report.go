package main

// bootReport is what the CLI shows of one boot. chain.go fills it from the
// kernel and IMA models; boot prints it as a summary or JSON, and --out
// writes its artifacts. The JSON keys are the ones docs/cli.md lists.
type bootReport struct {
	Preset           string            `json:"preset"`
	Verdict          string            `json:"verdict"`
	BootAggregate    *aggregateInfo    `json:"boot_aggregate"`
	TPMRegistered    *registration     `json:"tpm_registered"`
	Initcalls        []initcallInfo    `json:"initcalls"`
	Deferred         []deferral        `json:"deferred"`
	Measurements     int               `json:"measurements"`
	LostMeasurements []lostInfo        `json:"lost_measurements"`
	RoT              string            `json:"rot"`
	FFACalls         map[string]int    `json:"ffa_calls"`
	Notes            []string          `json:"notes"`
	Scenario         *scenario         `json:"scenario"`
	Kernel           *realKernelReport `json:"kernel,omitempty"`
	Log              []string          `json:"log"`

	artifacts *artifacts
	trace     []traceEvent
}

// aggregateInfo is IMA's first entry: its name ("boot_aggregate" or
// "boot_aggregate_late") and its digest per bank, all zeros in TPM-bypass.
type aggregateInfo struct {
	Name   string `json:"name"`
	SHA1   string `json:"sha1"`
	SHA256 string `json:"sha256"`
	// Entry is the digest the list records for it, "<algo>:<hex>" (for
	// an RTMR root of trust, the only value: it has no SHA-1/SHA-256 bank).
	Entry string `json:"entry"`
}

// registration says where the TPM chip became the default chip.
type registration struct {
	Level    string `json:"level"`
	Initcall string `json:"initcall"`
	Time     string `json:"time,omitempty"`
}

type initcallInfo struct {
	Level string `json:"level"`
	Name  string `json:"name"`
	Ret   any    `json:"ret"` // 0 or the errno name, e.g. "EPROBE_DEFER"
}

// deferral is a probe that returned -EPROBE_DEFER and where it finally ran.
type deferral struct {
	Device     string        `json:"device"`
	Driver     string        `json:"driver"`
	Attempts   int           `json:"attempts"`
	DeferredAt *registration `json:"deferred_at"`
	ProbedAt   *registration `json:"probed_at"` // null when it never probed
	Result     any           `json:"result"`    // 0 or the errno name of the final probe
}

// lostInfo is a measurement event that happened before IMA could record it
// in the TPM: lost (before init_ima) or recorded without TPM protection.
type lostInfo struct {
	Status string `json:"status"` // "lost" (before init_ima) or "unprotected" (TPM-bypass)
	Event  string `json:"event"`
	At     string `json:"at"`
	Reason string `json:"reason"`
}

// artifacts are the files a real machine exposes after the boot.
type artifacts struct {
	asciiSHA1, asciiSHA256   []byte
	binarySHA1, binarySHA256 []byte
	eventLog                 []byte              // binary_bios_measurements
	acpiTPM2                 []byte              // /sys/firmware/acpi/tables/TPM2
	pcrs                     map[string][][]byte // bank -> PCR 0..23
}

// traceEvent is one line of trace.jsonl and of "ffatpm trace".
type traceEvent struct {
	Seq      int    `json:"seq"`
	TimeNS   int64  `json:"t_ns"`
	Group    string `json:"group"` // what --only selects: ffa, crb, initcall, driver, defer, tpm, ima, boot
	Kind     string `json:"kind"`  // the kernel model's event kind
	Level    string `json:"level,omitempty"`
	Initcall string `json:"initcall,omitempty"`
	Bus      string `json:"bus,omitempty"`
	Device   string `json:"device,omitempty"`
	Driver   string `json:"driver,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Result   string `json:"result,omitempty"`
}
