package main

// What the CLI needs to know about the model to check a user's input before
// booting: initcall levels, the closed sets of switch values, and the verdicts.
// Names of initcalls and Kconfig symbols are checked against the kernel
// model itself (see chain.go).

// initcallLevels lists the levels in the order init/main.c runs them, named
// as include/linux/init.h names their macros without "_initcall".
var initcallLevels = [...]string{
	"early", "pure",
	"core", "core_sync",
	"postcore", "postcore_sync",
	"arch", "arch_sync",
	"subsys", "subsys_sync",
	"fs", "fs_sync",
	"rootfs",
	"device", "device_sync",
	"late", "late_sync",
}

func parseLevel(s string) (int, bool) {
	for i, l := range initcallLevels {
		if l == s {
			return i, true
		}
	}
	return 0, false
}

func levelNames() []string { return initcallLevels[:] }

// ffaInitcallLevels are the two places ffa_init has had in Linux.
var ffaInitcallLevels = []string{"rootfs", "device"}

// verdictNames is the closed set of boot verdicts: IMA found the TPM at
// late_initcall ("tpm"), found none and ran in TPM-bypass ("bypass"), or
// found it only at late_initcall_sync ("late").
var verdictNames = [...]string{"tpm", "bypass", "late"}

// rootsOfTrust lists the values of --rot: the TPM through the FF-A chain and
// the second root of trust the IMA model provides (seed 004).
func rootsOfTrust() []string { return []string{"tpm", "rtmr"} }
