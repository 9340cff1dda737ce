// Package interop runs the real Linux NFS client against gonfs: each test
// starts `gonfs serve` on loopback and boots Debian's kernel in qemu through
// the nfslab VM (../shared/lab/vm, or $NFSLAB_DIR/vm), which mounts the export
// over NFSv3, NFSv4.1 or NFSv4.2 and runs a busybox script from testdata/
// with nfsprobe (cmd/nfsprobe) for what busybox cannot do. See README.md.
//
// The tests carry the build tag interop, so `go test ./...` does not boot
// guests; run them with
//
//	go test -tags interop -count=1 -timeout 25m ./interop/
//
// as root. The test binary re-executes itself in a private network namespace
// (unshare -n) so that the server's portmapper can take 127.0.0.1:111 and the
// guests' lock callbacks their own 127.0.0.N addresses; interop/run.sh does
// the same from outside.
//
// Concurrency: tests run one after another (each owns the portmapper port);
// within a test, the guests (run.sh processes) and the server are child
// processes the test starts and stops by PID.
package interop
