// Command unkey-local serves the local Unkey-compatible API
// (internal/unkeylocal) on a loopback address with a seeded workspace, so the
// provider can be tried offline.
//
//	unkey-local [-addr 127.0.0.1:8787] [-max-body-bytes 10485760] [-rate-limit 0]
//
// It prints the API URL, the seeded root key (a fake, local credential), the
// API ID and the migration IDs as NAME=value lines, then serves until
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "unkey-local:", err)
		os.Exit(1)
	}
}

type config struct {
	addr      string
	maxBody   int64
	rateLimit int
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("unkey-local", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8787", "loopback `host:port` to listen on (port 0 picks a free port)")
	fs.Int64Var(&c.maxBody, "max-body-bytes", unkeylocal.DefaultMaxBodyBytes, "largest request body accepted, like Unkey's cap")
	fs.IntVar(&c.rateLimit, "rate-limit", 0, "requests per minute allowed to the workspace (0: unlimited)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.maxBody <= 0 {
		return c, errors.New("-max-body-bytes must be positive")
	}
	if c.rateLimit < 0 {
		return c, errors.New("-rate-limit must be 0 (unlimited) or more")
	}
	return c, checkLoopback(c.addr)
}

// checkLoopback refuses addresses that would expose the local API (and its
// well-known root key) beyond this machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %q: the local API has a published root key and is for this machine only; use a loopback address such as 127.0.0.1:8787", addr)
}

// run serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := unkeylocal.NewServer(unkeylocal.Options{MaxBodyBytes: c.maxBody})
	seed := srv.SeedDefault()
	srv.SetRateLimit(seed.WorkspaceID, c.rateLimit)

	// seam_migration_id comes last: scripts wait for it.
	_, _ = fmt.Fprintf(stdout, "UNKEY_API_URL=http://%s\nUNKEY_ROOT_KEY=%s\napi_id=%s\nmigration_id=%s\nseam_migration_id=%s\n",
		ln.Addr(), seed.RootKey, seed.APIID, seed.MigrationID, seed.SeamMigrationID)

	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = httpSrv.Shutdown(shutdown)
	}()
	err = httpSrv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}
