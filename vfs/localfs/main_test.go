package localfs

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that Close stops the index flusher of every FS.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
