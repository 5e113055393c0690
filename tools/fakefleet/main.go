// Command fakefleet serves a fleet of fake Redis 7.0.15 masters without
// replicas (internal/fakefleet) in one process, one listener per master on
// 127.0.0.1:
//
//	fakefleet -count 500                 # ports chosen by the kernel
//	fakefleet -base 7000 -count 500      # ports 7000..7499
//	fakefleet -ports 7000,7002,7004
//
// Once every listener is bound it prints "ready <port> <port> ..." (the
// masters in order) on stdout and, with -ports-file, writes the same line
// to that file (atomically: a reader never sees half of it). It runs until
// SIGTERM or SIGINT. Make a master dark with `redis-cli -p <port>
// FAKEFLEET DARK` and answer again with FAKEFLEET LIGHT.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/x0tta6bl4/gosentinel/internal/fakefleet"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakefleet:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakefleet", flag.ContinueOnError)
	count := fs.Int("count", 0, "number of masters (with -base: consecutive ports from it; alone: ports chosen by the kernel)")
	base := fs.Int("base", 0, "first port (with -count)")
	list := fs.String("ports", "", "comma-separated ports, one master each (instead of -count)")
	portsFile := fs.String("ports-file", "", "write the ready line to this file too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ports, err := fakefleet.PortList(*list, *base, *count)
	if err != nil {
		return err
	}
	f, err := fakefleet.ListenPorts(ports)
	if err != nil {
		return err
	}
	defer f.Close()
	line := fakefleet.ReadyLine(f.Ports())
	if *portsFile != "" {
		if err := writeAtomic(*portsFile, line); err != nil {
			return err
		}
	}
	fmt.Print(line)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}

func writeAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ports-*")
	if err != nil {
		return fmt.Errorf("ports file: %w", err)
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("ports file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ports file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("ports file: %w", err)
	}
	return nil
}
