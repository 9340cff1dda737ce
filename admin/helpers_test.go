package admin_test

import "github.com/gonfs/gonfs/debuglog"

type debuglogSubsystem = debuglog.Subsystem

func debuglogParse(name string) (debuglog.Subsystem, bool) { return debuglog.ParseSubsystem(name) }
