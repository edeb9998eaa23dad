package ima

import "syscall"

// fsMagic returns the filesystem magic of the filesystem holding dir.
func fsMagic(dir string) uint32 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0xef53 // EXT4_SUPER_MAGIC
	}
	return uint32(st.Type)
}
