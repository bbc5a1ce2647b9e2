// Command unkey-local serves the local Unkey-compatible API
// (internal/unkeylocal) on a loopback address with a seeded workspace, so the
// provider can be tried offline.
//
//	unkey-local [-addr 127.0.0.1:8787] [-max-body-bytes 10485760] [-rate-limit 0] [-latency none|unkey]
//	            [-root-key WORKSPACE:KEY:PERM,PERM...]... [-api WORKSPACE:API_ID:NAME]...
//	            [-migration WORKSPACE:MIGRATION_ID[:ALGORITHM]]...
//
// Beside the default seed, -root-key, -api and -migration seed more (in other
// workspaces too, which are created as needed), for trying permission sets and
// workspace isolation. It prints the API URL, the seeded root key (a fake, local
// credential), the API ID and the migration IDs as NAME=value lines, then one
// line for every seeded workspace, root key, API and migration, then
// seam_migration_id last, and serves until SIGINT or SIGTERM.
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
	"slices"
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
	addr       string
	maxBody    int64
	rateLimit  int
	latency    string
	rootKeys   []rootKeySeed
	apis       []apiSeed
	migrations []migrationSeed
}

type rootKeySeed struct {
	workspace, key string
	permissions    []string
}

type apiSeed struct{ workspace, id, name string }

type migrationSeed struct{ workspace, id, algorithm string }

// latencies are the values of -latency.
var latencies = map[string]unkeylocal.Latency{"none": {}, "unkey": unkeylocal.UnkeyLatency}

// repeated is a flag that may be given many times; each value is parsed
// as it comes.
type repeated func(string) error

func (r repeated) String() string     { return "" }
func (r repeated) Set(v string) error { return r(v) }

func parseFlags(args []string, usage io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("unkey-local", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8787", "loopback `host:port` to listen on (port 0 picks a free port)")
	fs.Int64Var(&c.maxBody, "max-body-bytes", unkeylocal.DefaultMaxBodyBytes, "largest request body accepted, like Unkey's cap")
	fs.IntVar(&c.rateLimit, "rate-limit", 0, "requests per minute allowed to the workspace (0: unlimited)")
	fs.StringVar(&c.latency, "latency", "none", "`model` of the server's time: none, or unkey (4 ms + 0.14 ms per migrated key, 2 requests at once)")
	fs.Var(repeated(func(v string) error {
		rk, err := parseRootKey(v)
		c.rootKeys = append(c.rootKeys, rk)
		return err
	}), "root-key", "seed a root key: `WORKSPACE:KEY:PERMISSIONS`, permissions comma-separated (api.*.create_key,api.*.read_api; * for all); repeatable")
	fs.Var(repeated(func(v string) error {
		parts := strings.SplitN(v, ":", 3)
		if len(parts) != 3 || parts[0] == "" || len(parts[1]) < 3 || len(parts[2]) < 3 {
			return fmt.Errorf("want WORKSPACE:API_ID:NAME (ID and name at least 3 characters), got %q", v)
		}
		c.apis = append(c.apis, apiSeed{parts[0], parts[1], parts[2]})
		return nil
	}), "api", "seed an API: `WORKSPACE:API_ID:NAME`; repeatable")
	fs.Var(repeated(func(v string) error {
		m, err := parseMigration(v)
		c.migrations = append(c.migrations, m)
		return err
	}), "migration", "seed a migration: `WORKSPACE:MIGRATION_ID[:ALGORITHM]`, algorithm "+unkeylocal.AlgorithmSHA256+" (default) or "+unkeylocal.AlgorithmSeamPrefixed+"; repeatable")
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
	if _, ok := latencies[c.latency]; !ok {
		return c, fmt.Errorf("-latency %q: want none or unkey", c.latency)
	}
	return c, checkLoopback(c.addr)
}

func parseRootKey(v string) (rootKeySeed, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return rootKeySeed{}, fmt.Errorf("want WORKSPACE:KEY:PERMISSIONS (e.g. ws_other:unkey_local_root_other:api.*.create_key,api.*.read_api), got %q", v)
	}
	perms := strings.Split(parts[2], ",")
	if slices.Contains(perms, "") {
		return rootKeySeed{}, fmt.Errorf("-root-key %q: an empty permission", v)
	}
	return rootKeySeed{parts[0], parts[1], perms}, nil
}

func parseMigration(v string) (migrationSeed, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || parts[0] == "" || len(parts[1]) < 3 {
		return migrationSeed{}, fmt.Errorf("want WORKSPACE:MIGRATION_ID[:ALGORITHM] (ID at least 3 characters), got %q", v)
	}
	m := migrationSeed{parts[0], parts[1], unkeylocal.AlgorithmSHA256}
	if len(parts) == 3 {
		m.algorithm = parts[2]
	}
	if m.algorithm != unkeylocal.AlgorithmSHA256 && m.algorithm != unkeylocal.AlgorithmSeamPrefixed {
		return m, fmt.Errorf("-migration %q: algorithm must be %s or %s", v, unkeylocal.AlgorithmSHA256, unkeylocal.AlgorithmSeamPrefixed)
	}
	return m, nil
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

// run serves until ctx ends. -h and --help print the usage to stdout and
// return nil.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := unkeylocal.NewServer(unkeylocal.Options{MaxBodyBytes: c.maxBody, Latency: latencies[c.latency]})
	seed := srv.SeedDefault()
	srv.SetRateLimit(seed.WorkspaceID, c.rateLimit)
	_, _ = fmt.Fprintf(stdout, "UNKEY_API_URL=http://%s\nUNKEY_ROOT_KEY=%s\napi_id=%s\nmigration_id=%s\n",
		ln.Addr(), seed.RootKey, seed.APIID, seed.MigrationID)
	seedExtras(srv, seed, c, stdout)
	// seam_migration_id comes last: scripts wait for it.
	_, _ = fmt.Fprintf(stdout, "seam_migration_id=%s\n", seed.SeamMigrationID)

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

// seedExtras seeds what the flags ask for and prints every seeded
// workspace, root key, API and migration, the default seed's included:
//
//	workspace=ID
//	root_key=WORKSPACE:KEY:PERMISSIONS
//	api=WORKSPACE:API_ID:NAME
//	migration=WORKSPACE:MIGRATION_ID:ALGORITHM
func seedExtras(srv *unkeylocal.Server, seed unkeylocal.Seed, c config, out io.Writer) {
	workspaces := []string{seed.WorkspaceID}
	addWorkspace := func(id string) {
		if !slices.Contains(workspaces, id) {
			workspaces = append(workspaces, id)
			srv.AddWorkspace(id)
		}
	}
	rootKeys := []rootKeySeed{{seed.WorkspaceID, seed.RootKey, []string{"*"}}}
	apis := []apiSeed{{seed.WorkspaceID, seed.APIID, "local"}}
	migrations := []migrationSeed{
		{seed.WorkspaceID, seed.MigrationID, unkeylocal.AlgorithmSHA256},
		{seed.WorkspaceID, seed.SeamMigrationID, unkeylocal.AlgorithmSeamPrefixed},
	}
	for _, rk := range c.rootKeys {
		addWorkspace(rk.workspace)
		srv.AddRootKey(rk.workspace, rk.key, rk.permissions...)
		rootKeys = append(rootKeys, rk)
	}
	for _, a := range c.apis {
		addWorkspace(a.workspace)
		srv.AddAPI(a.workspace, a.id, a.name)
		apis = append(apis, a)
	}
	for _, m := range c.migrations {
		addWorkspace(m.workspace)
		srv.AddMigration(m.workspace, m.id, m.algorithm)
		migrations = append(migrations, m)
	}
	for _, ws := range workspaces {
		_, _ = fmt.Fprintf(out, "workspace=%s\n", ws)
	}
	for _, rk := range rootKeys {
		_, _ = fmt.Fprintf(out, "root_key=%s:%s:%s\n", rk.workspace, rk.key, strings.Join(rk.permissions, ","))
	}
	for _, a := range apis {
		_, _ = fmt.Fprintf(out, "api=%s:%s:%s\n", a.workspace, a.id, a.name)
	}
	for _, m := range migrations {
		_, _ = fmt.Fprintf(out, "migration=%s:%s:%s\n", m.workspace, m.id, m.algorithm)
	}
}
