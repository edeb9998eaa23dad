package kernel

import (
	"fmt"
	"strings"
)

// Level is an initcall level, in the order init/main.c runs them:
// early initcalls from do_pre_smp_initcalls, then do_initcalls walks
// __initcall0_start .. __initcall7s (include/linux/init.h), with rootfs
// between fs_sync and device.
type Level uint8

// Initcall levels, in Linux order. The section suffix of each is in the
// comment (.initcall<suffix>.init).
const (
	LevelEarly        Level = iota // early
	LevelPure                      // 0
	LevelCore                      // 1
	LevelCoreSync                  // 1s
	LevelPostcore                  // 2
	LevelPostcoreSync              // 2s
	LevelArch                      // 3
	LevelArchSync                  // 3s
	LevelSubsys                    // 4
	LevelSubsysSync                // 4s
	LevelFS                        // 5
	LevelFSSync                    // 5s
	LevelRootfs                    // rootfs
	LevelDevice                    // 6
	LevelDeviceSync                // 6s
	LevelLate                      // 7
	LevelLateSync                  // 7s

	// LevelModule is not an initcall level: it marks code that ran when a
	// module was loaded after the last level (module_init of an =m build).
	LevelModule
	// LevelUser marks early user space (after the initcalls, /init running).
	LevelUser
)

type levelInfo struct {
	name    string // include/linux/init.h name, also the CLI name
	macro   string // the macro that places a function at the level
	section string // the linker section suffix: .initcall<section>.init
}

var levelTable = [...]levelInfo{
	LevelEarly:        {"early", "early_initcall", "early"},
	LevelPure:         {"pure", "pure_initcall", "0"},
	LevelCore:         {"core", "core_initcall", "1"},
	LevelCoreSync:     {"core_sync", "core_initcall_sync", "1s"},
	LevelPostcore:     {"postcore", "postcore_initcall", "2"},
	LevelPostcoreSync: {"postcore_sync", "postcore_initcall_sync", "2s"},
	LevelArch:         {"arch", "arch_initcall", "3"},
	LevelArchSync:     {"arch_sync", "arch_initcall_sync", "3s"},
	LevelSubsys:       {"subsys", "subsys_initcall", "4"},
	LevelSubsysSync:   {"subsys_sync", "subsys_initcall_sync", "4s"},
	LevelFS:           {"fs", "fs_initcall", "5"},
	LevelFSSync:       {"fs_sync", "fs_initcall_sync", "5s"},
	LevelRootfs:       {"rootfs", "rootfs_initcall", "rootfs"},
	LevelDevice:       {"device", "device_initcall", "6"},
	LevelDeviceSync:   {"device_sync", "device_initcall_sync", "6s"},
	LevelLate:         {"late", "late_initcall", "7"},
	LevelLateSync:     {"late_sync", "late_initcall_sync", "7s"},
	LevelModule:       {"module", "module_init", ""},
	LevelUser:         {"user", "", ""},
}

// Levels returns the initcall levels in the order Linux runs them (a fresh
// slice; LevelModule and LevelUser are not included).
func Levels() []Level {
	ls := make([]Level, 0, int(LevelLateSync)+1)
	for l := LevelEarly; l <= LevelLateSync; l++ {
		ls = append(ls, l)
	}
	return ls
}

// String returns the level's name as include/linux/init.h spells it
// ("device", "late_sync", "rootfs").
func (l Level) String() string {
	if int(l) < len(levelTable) {
		return levelTable[l].name
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Macro returns the macro that places an initcall at the level
// ("device_initcall", "late_initcall_sync"), or "" for pseudo levels.
func (l Level) Macro() string {
	if int(l) < len(levelTable) {
		return levelTable[l].macro
	}
	return ""
}

// Section returns the linker section that holds the level's initcalls
// (".initcall6.init", ".initcallrootfs.init"), or "" for pseudo levels.
func (l Level) Section() string {
	if int(l) < len(levelTable) && levelTable[l].section != "" {
		return ".initcall" + levelTable[l].section + ".init"
	}
	return ""
}

// IsInitcall reports whether l is a real initcall level.
func (l Level) IsInitcall() bool { return l <= LevelLateSync }

// Sync returns the _sync level that follows l (l itself for sync levels,
// early, pure and rootfs, which have none).
func (l Level) Sync() Level {
	switch l {
	case LevelCore, LevelPostcore, LevelArch, LevelSubsys, LevelFS, LevelDevice, LevelLate:
		return l + 1
	}
	return l
}

// ParseLevel accepts the init.h name ("device", "late_sync"), the macro
// ("device_initcall", "late_initcall_sync"), the section suffix ("6", "7s",
// "rootfs") or the full section name (".initcall6.init").
func ParseLevel(s string) (Level, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, ".initcall") && strings.HasSuffix(t, ".init") {
		t = strings.TrimSuffix(strings.TrimPrefix(t, ".initcall"), ".init")
	}
	for l := LevelEarly; l <= LevelLateSync; l++ {
		in := levelTable[l]
		if t == in.name || t == in.macro || t == in.section {
			return l, nil
		}
	}
	names := make([]string, 0, 17)
	for _, l := range Levels() {
		names = append(names, l.String())
	}
	return 0, fmt.Errorf("unknown initcall level %q (want one of %s)", s, strings.Join(names, ", "))
}

// MarshalText implements encoding.TextMarshaler with the init.h name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseLevel, also
// accepting "module" and "user".
func (l *Level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "module":
		*l = LevelModule
		return nil
	case "user":
		*l = LevelUser
		return nil
	}
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}
