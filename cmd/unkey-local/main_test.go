package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

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
	c, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-max-body-bytes", "1024", "-rate-limit", "60"})
	if err != nil || c.addr != "127.0.0.1:0" || c.maxBody != 1024 || c.rateLimit != 60 {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := parseFlags(nil); err != nil || c.addr != "127.0.0.1:8787" || c.maxBody != 10<<20 || c.rateLimit != 0 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for _, args := range [][]string{{"-addr", "0.0.0.0:1"}, {"-max-body-bytes", "0"}, {"-rate-limit", "-1"}, {"extra"}, {"-seed-file", "x"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestRunServesTheSeededAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-rate-limit", "100"}, pw); _ = pw.Close() }()

	values := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), "=")
		values[name] = value
		if name == "seam_migration_id" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
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
