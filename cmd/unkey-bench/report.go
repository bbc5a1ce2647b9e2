package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// table is a markdown table; columns after the first are right-aligned.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// render pads every column to its widest cell, so the markdown reads as a
// table in a terminal too.
func (t table) render() string {
	width := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 0 {
				b.WriteString(" " + c + pad + " |")
			} else {
				b.WriteString(" " + pad + c + " |")
			}
		}
		b.WriteString("\n")
	}
	line(t.header)
	b.WriteString("|")
	for i, w := range width {
		if i == 0 {
			b.WriteString(strings.Repeat("-", w+2) + "|")
		} else {
			b.WriteString(strings.Repeat("-", w+1) + ":|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// fmtN writes a count with thousands separators: 100,000.
func fmtN(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + fmtN(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtDur(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 100:
		return fmt.Sprintf("%.1f s", s)
	default:
		return fmt.Sprintf("%.0f s", s)
	}
}

// fmtMB writes kilobytes as decimal megabytes; negative means unknown.
func fmtMB(kb int64) string {
	if kb < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", mb(kb))
}

func mb(kb int64) float64 { return float64(kb) * 1024 / 1e6 }

// perKeyUS is a duration per key in microseconds.
func perKeyUS(d time.Duration, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}

func fmtUS(us float64) string { return fmt.Sprintf("%.1f", us) }

func fmtPct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// costPoint is the wall time of one run at one N.
type costPoint struct {
	N    int
	Wall time.Duration
}

// marginalUS is the cost of each key added between consecutive points, in
// microseconds: (wall(b) - wall(a)) / (b - a). The fixed start-up cost of a
// command (Terraform, the provider) cancels out, so a flat cost per key
// shows as equal marginal costs. Points are sorted by N.
func marginalUS(points []costPoint) []float64 {
	p := slices.Clone(points)
	slices.SortFunc(p, func(a, b costPoint) int { return a.N - b.N })
	var out []float64
	for i := 1; i < len(p); i++ {
		if dn := p[i].N - p[i-1].N; dn > 0 {
			out = append(out, float64((p[i].Wall-p[i-1].Wall).Microseconds())/float64(dn))
		}
	}
	return out
}

// flatTolerance is how much the cost per key may grow from the smallest to
// the largest N and still count as flat.
const flatTolerance = 1.5

// flatness decides whether the cost per key stays flat across points: the
// marginal cost per key between the two largest Ns may be at most
// flatTolerance times that between the two smallest, and the plain cost per
// key (wall/N) must not grow from the smallest N to the largest. With only
// two points only the second holds.
func flatness(points []costPoint) (ok bool, why string) {
	return flatnessWithin(points, flatTolerance)
}

// flatnessWithin is flatness with its own tolerance.
func flatnessWithin(points []costPoint, tolerance float64) (ok bool, why string) {
	p := slices.Clone(points)
	slices.SortFunc(p, func(a, b costPoint) int { return a.N - b.N })
	if len(p) < 2 {
		return false, "needs at least two Ns"
	}
	first, last := p[0], p[len(p)-1]
	pkFirst, pkLast := perKeyUS(first.Wall, first.N), perKeyUS(last.Wall, last.N)
	ok = pkLast <= pkFirst*tolerance
	why = fmt.Sprintf("%s µs/key at %s, %s µs/key at %s", fmtUS(pkFirst), fmtN(first.N), fmtUS(pkLast), fmtN(last.N))
	if m := marginalUS(p); len(m) >= 2 {
		mFirst, mLast := m[0], m[len(m)-1]
		ok = ok && mLast <= max(mFirst, 0)*tolerance
		why += fmt.Sprintf("; marginal %s µs/key for %s→%s, %s µs/key for %s→%s",
			fmtUS(mFirst), fmtN(p[0].N), fmtN(p[1].N), fmtUS(mLast), fmtN(p[len(p)-2].N), fmtN(last.N))
	}
	return ok, why
}

// machine describes where the benchmark ran.
func machine(terraformVersion string) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		cpu = cpuModel(string(b))
	}
	ram := "unknown RAM"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb := memTotalKB(string(b)); kb > 0 {
			ram = fmt.Sprintf("%.1f GB RAM", float64(kb)*1024/1e9)
		}
	}
	osName := runtime.GOOS
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if n := osRelease(string(b)); n != "" {
			osName = n
		}
	}
	return fmt.Sprintf("%s, %d cores, %s; %s (%s/%s); %s; Terraform %s",
		cpu, runtime.NumCPU(), ram, osName, runtime.GOOS, runtime.GOARCH, runtime.Version(), terraformVersion)
}

// loadAverage is the 1-minute load average from /proc/loadavg, or "n/a":
// other work on the machine skews every number.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "n/a"
}

func cpuModel(cpuinfo string) string {
	for line := range strings.Lines(cpuinfo) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotalKB(meminfo string) int64 {
	for line := range strings.Lines(meminfo) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}

func osRelease(text string) string {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
