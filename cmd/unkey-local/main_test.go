package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/unkeyed/terraform-provider-unkey/internal/unkeylocal"
)

// TestMain runs main itself when a test re-executes the test binary with
// UNKEY_LOCAL_MAIN_ARGS set, so that exit codes are tested for real.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("UNKEY_LOCAL_MAIN_ARGS"); ok {
		os.Args = append([]string{"unkey-local"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestHelpExitsZero(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "UNKEY_LOCAL_MAIN_ARGS="+arg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v: %s", arg, err, out.String())
		}
		for _, flag := range []string{"-root-key", "-latency", "-api", "-migration", "-addr"} {
			if !strings.Contains(out.String(), flag) {
				t.Errorf("%s: usage does not mention %s: %s", arg, flag, out.String())
			}
		}
	}
	// A wrong flag still exits 1.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "UNKEY_LOCAL_MAIN_ARGS=-latency slow")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "-latency") {
		t.Errorf("-latency slow: %v: %s", err, out)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8787": true, "127.1.2.3:0": true, "localhost:8787": true, "[::1]:8787": true,
		"0.0.0.0:8787": false, ":8787": false, "192.168.1.10:8787": false, "[::]:8787": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-max-body-bytes", "1024", "-rate-limit", "60", "-latency", "unkey",
		"-root-key", "ws_a:root_a:api.*.read_api,api.*.create_key", "-root-key", "ws_b:root_b:*",
		"-api", "ws_a:api_a:named: with colon", "-migration", "ws_a:mig_a", "-migration", "ws_b:mig_b:" + unkeylocal.AlgorithmSeamPrefixed}, io.Discard)
	if err != nil || c.addr != "127.0.0.1:0" || c.maxBody != 1024 || c.rateLimit != 60 || c.latency != "unkey" {
		t.Fatalf("%+v %v", c, err)
	}
	wantRootKeys := []rootKeySeed{{"ws_a", "root_a", []string{"api.*.read_api", "api.*.create_key"}}, {"ws_b", "root_b", []string{"*"}}}
	if fmt.Sprint(c.rootKeys) != fmt.Sprint(wantRootKeys) || fmt.Sprint(c.apis) != "[{ws_a api_a named: with colon}]" ||
		fmt.Sprint(c.migrations) != "[{ws_a mig_a sha256} {ws_b mig_b "+unkeylocal.AlgorithmSeamPrefixed+"}]" {
		t.Fatalf("%+v", c)
	}
	if c, err := parseFlags(nil, io.Discard); err != nil || c.addr != "127.0.0.1:8787" || c.maxBody != 10<<20 || c.rateLimit != 0 || c.latency != "none" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for _, args := range [][]string{{"-addr", "0.0.0.0:1"}, {"-max-body-bytes", "0"}, {"-rate-limit", "-1"}, {"extra"}, {"-seed-file", "x"},
		{"-latency", "slow"}, {"-root-key", "ws:key"}, {"-root-key", "ws:key:a,,b"}, {"-root-key", ":key:*"}, {"-api", "ws:api_x"},
		{"-migration", "ws"}, {"-migration", "ws:mig_x:md5"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// startRun runs the command with args and returns what it printed, by
// name (every value of names printed more than once), and a stop function
// that checks it stops cleanly.
func startRun(t *testing.T, args ...string) (map[string][]string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw); _ = pw.Close() }()

	values := map[string][]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), "=")
		values[name] = append(values[name], value)
		if name == "seam_migration_id" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("run did not stop")
		}
	}
	return values, stop
}

// post sends a request to the local API and returns the status.
func post(t *testing.T, url, rootKey, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+rootKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode
}

func TestRunSeedsWhatTheFlagsAsk(t *testing.T) {
	values, stop := startRun(t, "-root-key", "ws_other:unkey_local_root_other:api.*.read_api,api.*.create_key",
		"-root-key", "ws_local:unkey_local_reader:api.*.read_key", "-api", "ws_other:api_other:other",
		"-migration", "ws_other:mig_other:"+unkeylocal.AlgorithmSeamPrefixed, "-latency", "unkey")
	defer stop()
	for name, want := range map[string][]string{
		"workspace": {"ws_local", "ws_other"},
		"root_key": {"ws_local:" + values["UNKEY_ROOT_KEY"][0] + ":*", "ws_other:unkey_local_root_other:api.*.read_api,api.*.create_key",
			"ws_local:unkey_local_reader:api.*.read_key"},
		"api": {"ws_local:api_local:local", "ws_other:api_other:other"},
		"migration": {"ws_local:mig_local_sha256:sha256", "ws_local:mig_local_seam:" + unkeylocal.AlgorithmSeamPrefixed,
			"ws_other:mig_other:" + unkeylocal.AlgorithmSeamPrefixed},
	} {
		if fmt.Sprint(values[name]) != fmt.Sprint(want) {
			if name == "root_key" { // root keys stay out of test output, fake or not
				t.Errorf("root_key: %d lines printed, want %d, or not the ones seeded", len(values[name]), len(want))
				continue
			}
			t.Errorf("%s: printed %q, want %q", name, values[name], want)
		}
	}
	url := values["UNKEY_API_URL"][0]
	rootKeys := map[string]string{"other": "unkey_local_root_other", "default": values["UNKEY_ROOT_KEY"][0], "reader": "unkey_local_reader"}
	for _, tc := range []struct {
		rootKey, apiID string
		status         int
	}{
		{"other", "api_other", 200},
		{"other", "api_local", 404}, // another workspace's
		{"default", "api_other", 404},
		{"reader", "api_local", 403}, // read_key only
	} {
		if got := post(t, url, rootKeys[tc.rootKey], "/v2/apis.getApi", `{"apiId":"`+tc.apiID+`"}`); got != tc.status {
			t.Errorf("getApi %s as the %s root key: %d, want %d", tc.apiID, tc.rootKey, got, tc.status)
		}
	}
}

func TestRunServesTheSeededAPI(t *testing.T) {
	all, stop := startRun(t, "-rate-limit", "100")
	values := map[string]string{}
	for name, v := range all {
		values[name] = v[0]
	}
	for _, name := range []string{"UNKEY_API_URL", "UNKEY_ROOT_KEY", "api_id", "migration_id", "seam_migration_id"} {
		if values[name] == "" {
			t.Fatalf("%s not printed: %v", name, values)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, values["UNKEY_API_URL"]+"/v2/apis.getApi", strings.NewReader(`{"apiId":"`+values["api_id"]+`"}`))
	req.Header.Set("Authorization", "Bearer "+values["UNKEY_ROOT_KEY"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	stop()
}
