package ima

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ffatpm/ffatpm/ima/policy"
)

//go:embed rootfs
var rootfs embed.FS

// embeddedExec lists the embedded files that are executed (embed keeps no
// mode bits).
func embeddedExec(p string) bool {
	switch p {
	case "/init", "/bin/busybox", "/sbin/init", "/opt/my script.sh":
		return true
	}
	return false
}

// Classify chooses the hook and mask a boot would measure a file with:
// modules through MODULE_CHECK, firmware through FIRMWARE_CHECK,
// executables through BPRM_CHECK with MAY_EXEC, everything else as a
// FILE_CHECK read by root.
func Classify(p string, executable bool, fsmagic uint32) policy.Request {
	r := policy.Request{FSMagic: fsmagic}
	switch {
	case strings.HasSuffix(p, ".ko"):
		r.Func = policy.ModuleCheck
	case strings.HasPrefix(p, "/lib/firmware/"):
		r.Func = policy.FirmwareCheck
	case executable:
		r.Func, r.Mask = policy.BprmCheck, policy.MayExec
	default:
		r.Func, r.Mask = policy.FileCheck, policy.MayRead
	}
	return r
}

// EmbeddedFiles returns a small initramfs-like file set (on ramfs, as an
// initramfs unpacked into rootfs is), in a fixed order: /init first, then
// the other files sorted by path.
func EmbeddedFiles() []File {
	var out []File
	_ = fs.WalkDir(rootfs, "rootfs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := rootfs.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "rootfs")
		out = append(out, File{Path: name, Data: data, Req: Classify(name, embeddedExec(name), policy.RamfsMagic)})
		return nil
	})
	sortInitFirst(out)
	return out
}

func sortInitFirst(fs []File) {
	sort.SliceStable(fs, func(i, j int) bool {
		if (fs[i].Path == "/init") != (fs[j].Path == "/init") {
			return fs[i].Path == "/init"
		}
		return fs[i].Path < fs[j].Path
	})
}

// MaxDirFiles and MaxFileSize bound what LoadDir reads.
const (
	MaxDirFiles = 10000
	MaxFileSize = 64 << 20
)

// LoadDir reads the regular files under dir as the file set to measure,
// named by their path relative to dir with a leading "/" (so dir plays the
// root file system). Executables (any x bit) are classified as executed.
// Symlinks and special files are skipped.
func LoadDir(dir string) ([]File, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("ima: file set: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("ima: file set: %s is not a directory", dir)
	}
	magic := fsMagic(dir)
	var out []File
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if len(out) >= MaxDirFiles {
			return fmt.Errorf("more than %d files", MaxDirFiles)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > MaxFileSize {
			return fmt.Errorf("%s is %d bytes, more than %d", p, info.Size(), MaxFileSize)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Clean("/" + filepath.ToSlash(rel))
		out = append(out, File{Path: name, Data: data, Req: Classify(name, info.Mode()&0o111 != 0, magic)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ima: file set %s: %w", dir, err)
	}
	sortInitFirst(out)
	return out, nil
}
