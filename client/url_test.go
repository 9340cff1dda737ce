package client

import (
	"testing"
)

func TestParseURL(t *testing.T) {
	u32 := func(v uint32) *uint32 { return &v }
	for _, tc := range []struct {
		in      string
		want    URL
		name    string
		wantErr bool
	}{
		{in: "nfs://srv/", want: URL{Host: "srv", Path: "/"}, name: "."},
		{in: "nfs://srv", want: URL{Host: "srv", Path: "/"}, name: "."},
		{in: "nfs://srv:2050/a/b/?version=4.1", want: URL{Host: "srv", Port: 2050, Path: "/a/b", Version: "4.1"}, name: "a/b"},
		{in: "nfs://[::1]:2049/x?version=3&mountport=635&nfsport=2051&uid=7&gid=8",
			want: URL{Host: "::1", Port: 2051, Path: "/x", Version: "3", MountPort: 635, UID: u32(7), GID: u32(8)}, name: "x"},
		{in: "nfs://srv/x?version=4", want: URL{Host: "srv", Path: "/x"}, name: "x"},
		{in: "nfs://srv/x?readahead=1", want: URL{Host: "srv", Path: "/x"}, name: "x"}, // libnfs options we ignore
		{in: "nfs://srv/../etc", want: URL{Host: "srv", Path: "/etc"}, name: "etc"},
		{in: "http://srv/", wantErr: true},
		{in: "nfs:///path", wantErr: true},
		{in: "nfs://srv/?version=5", wantErr: true},
		{in: "nfs://srv:0/", wantErr: true},
		{in: "nfs://srv/?uid=-1", wantErr: true},
		{in: "nfs://srv/?mountport=70000", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			u, err := ParseURL(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed as %+v, want an error", u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Host != tc.want.Host || u.Port != tc.want.Port || u.Path != tc.want.Path || u.Version != tc.want.Version || u.MountPort != tc.want.MountPort ||
				!eqID(u.UID, tc.want.UID) || !eqID(u.GID, tc.want.GID) {
				t.Errorf("got %+v, want %+v", *u, tc.want)
			}
			if u.Name() != tc.name {
				t.Errorf("Name() = %q, want %q", u.Name(), tc.name)
			}
			// String gives a URL that parses back the same.
			again, err := ParseURL(u.String())
			if err != nil || again.String() != u.String() {
				t.Errorf("round trip: %q -> %v, %v", u.String(), again, err)
			}
		})
	}
}

func eqID(a, b *uint32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
