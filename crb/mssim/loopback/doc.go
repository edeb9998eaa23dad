// Package loopback runs mssim peers on the loopback interface: it finds
// free port pairs for servers that take one (the mssim protocol's command
// port p and platform port p+1, TpmTcpProtocol.h; `swtpm socket` with
// --server and --ctrl on p and p+1), starts `swtpm socket --tpm2` on such a
// pair, and waits for a started server to listen. The benchmark (ffatpm
// bench) and the interop tests (crb/mssim/mssimtest) share it.
package loopback
