package main

import (
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
)

// The CLI composes IMA into the kernel boot with ima/imakernel: init_ima
// as the initcall(s) IMA contributes (late_initcall, late_initcall_sync with
// CONFIG_IMA_INIT_LATE_SYNC, or seed 001's retry), and the measurement
// points of the boot.

// imaInitcallNames are the initcall names IMA may contribute, for checking
// --order.
func imaInitcallNames() []string { return imakernel.InitcallNames() }

// bootMeasurements are the measurement points a boot has around init_ima,
// as a distribution kernel with an initramfs has them: a driver loading
// firmware at device level, a usermode helper (request_module ->
// /sbin/modprobe) during late_initcall after deferred probing, and a file
// read at the end of late_initcall. Module loads and early user space's
// execs add their own points.
func bootMeasurements() []kernel.ScheduledMeasurement {
	return []kernel.ScheduledMeasurement{
		{Level: kernel.LevelDevice, Func: "FIRMWARE_CHECK", Path: "/lib/firmware/fw.bin"},
		{Level: kernel.LevelLate, After: "deferred_probe_initcall", Func: "BPRM_CHECK", Path: "/sbin/modprobe"},
		{Level: kernel.LevelLate, Func: "FILE_CHECK", Path: "/etc/imaref-data.txt"},
	}
}

// userspaceExecs are the programs early user space runs: the executables
// of the measured file set, /init first.
func userspaceExecs(files []ima.File) []string {
	execs := []string{"/init"}
	for _, f := range files {
		if f.Path != "/init" && f.Req.Func.String() == "BPRM_CHECK" {
			execs = append(execs, f.Path)
		}
	}
	return execs
}

// measureUserFiles has user space open the rest of the file set after boot
// (FILE_CHECK and the other hooks the files were classified with).
func measureUserFiles(x *imakernel.IMA, files []ima.File) {
	for _, f := range files {
		if f.Req.Func.String() == "BPRM_CHECK" {
			continue // measured when early user space ran it
		}
		x.Measure(nil, kernel.Measurement{At: kernel.Point{Level: kernel.LevelUser},
			Func: f.Req.Func.String(), Path: f.Path})
	}
}

// defaultFiles is the file set measured when the scenario names none.
func defaultFiles() []ima.File { return ima.EmbeddedFiles() }
