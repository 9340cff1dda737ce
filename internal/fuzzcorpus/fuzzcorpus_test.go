package fuzzcorpus

import "testing"

func TestEncode(t *testing.T) {
	got, err := Encode([]byte("a\x00"), uint8(3), "s", true, uint32(7))
	want := "go test fuzz v1\n[]byte(\"a\\x00\")\nbyte(3)\nstring(\"s\")\nbool(true)\nuint32(7)\n"
	if err != nil || got != want {
		t.Fatalf("got %q %v, want %q", got, err, want)
	}
	if _, err := Encode(1.5); err == nil {
		t.Fatal("float accepted")
	}
}
