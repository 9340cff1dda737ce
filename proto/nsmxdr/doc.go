// Package nsmxdr holds the wire types and procedure numbers of the
// Network Status Monitor, version 1 (Open Group XNFS; program 100024),
// and the argument of the status callback statd makes to the local lock
// manager (nsm_status_cb), whose program and procedure are private to
// each implementation.
//
// The types are generated from nsm.x by cmd/xdrgen and keep the sm_inter.x
// spellings (sm_name, mon, sm_stat_res, stat_chge, ...).
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package nsmxdr

//go:generate go run ../../cmd/xdrgen -pkg nsmxdr -o nsm_xdr.go nsm.x
