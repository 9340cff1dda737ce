package stats

// ClientOwnerCollision counts one NFSv4 client owner collision: several
// clients found sharing one owner string, each registration destroying
// the others' state (package nfs4/collide). It counts episodes, not
// teardowns: an owner counts again only after it had been quiet for the
// detector's window. The owners themselves are in the server's log and
// its admin view, not here, so that the count needs no label a client
// could multiply.
func (s *Stats) ClientOwnerCollision() { s.ownerCollisions.Add(1) }
