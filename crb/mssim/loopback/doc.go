// Package loopback finds free TCP ports on the loopback interface for
// servers that take a port pair: the mssim protocol's command port p and
// platform port p+1 (TpmTcpProtocol.h; `swtpm socket` with --server and
// --ctrl on p and p+1). The benchmark starts swtpm and "ffatpm serve" on
// such pairs, and so do the interop tests (crb/mssim/mssimtest).
package loopback
