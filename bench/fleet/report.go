package fleet

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Pair is one size measured with both sentinels; a kind not run is nil.
type Pair struct {
	Masters int
	Redis   *Result
	Go      *Result
}

// WriteTable writes the markdown table of issue 12, a row per metric and
// size, with the ratio gosentinel / redis-sentinel where both have a
// value, then every run's errors.
func WriteTable(w io.Writer, pairs []Pair) {
	fmt.Fprintln(w, "| | redis-sentinel | gosentinel | gosentinel / redis-sentinel |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, p := range pairs {
		for _, m := range metrics {
			rv, rok := cell(p.Redis, m)
			gv, gok := cell(p.Go, m)
			ratio := "-"
			if rok && gok && m.value != nil {
				r, g := m.value(p.Redis), m.value(p.Go)
				if r > 0 && g > 0 {
					ratio = fmt.Sprintf("%.2f", g/r)
				}
			}
			fmt.Fprintf(w, "| %d masters: %s | %s | %s | %s |\n", p.Masters, m.name, rv, gv, ratio)
		}
	}
	for _, p := range pairs {
		for _, r := range []*Result{p.Redis, p.Go} {
			if r == nil {
				continue
			}
			for _, e := range r.Errors {
				fmt.Fprintf(w, "\n%s at %d masters: %s", r.Kind, p.Masters, e)
			}
		}
	}
	fmt.Fprintln(w)
}

// metric is one row: its text per result, and the number compared in the
// ratio column (nil: no ratio).
type metric struct {
	name  string
	text  func(*Result) string
	value func(*Result) float64
}

var metrics = []metric{
	{
		name: "all sentinels know each other for every master",
		text: func(r *Result) string {
			if r.Converged {
				return secs(r.ConvergeTime)
			}
			return fmt.Sprintf("not reached after %s (%.1f %%)", secs(r.ConvergeTime), 100*r.Fraction)
		},
		value: func(r *Result) float64 {
			if !r.Converged {
				return 0
			}
			return r.ConvergeTime.Seconds()
		},
	},
	{
		name: "RSS per sentinel, steady (peak)",
		text: func(r *Result) string {
			return fmt.Sprintf("%.0f MB (peak %.0f)", r.RSSSteady/(1<<20), r.RSSPeak/(1<<20))
		},
		value: func(r *Result) float64 { return r.RSSSteady },
	},
	{
		name:  "of which anonymous (heap, stacks; the rest is the binary's pages)",
		text:  func(r *Result) string { return fmt.Sprintf("%.0f MB", r.AnonSteady/(1<<20)) },
		value: func(r *Result) float64 { return r.AnonSteady },
	},
	{
		name:  "CPU per sentinel, steady",
		text:  func(r *Result) string { return fmt.Sprintf("%.1f %% of a core", r.CPU) },
		value: func(r *Result) float64 { return r.CPU },
	},
	{
		name: "`+sdown master` for masters that were up (warm-up + steady)",
		text: func(r *Result) string { return fmt.Sprintf("%d + %d", r.FalseSdownWarm, r.FalseSdownSteady) },
	},
	{
		name: "`+tilt`",
		text: func(r *Result) string { return fmt.Sprint(r.Tilt) },
	},
	{
		name: "detection of a dark master beyond down-after (min / median / max)",
		text: func(r *Result) string {
			if len(r.Detection) == 0 {
				return fmt.Sprintf("none (%d missed)", r.Missed)
			}
			lo, med, hi := Summary(r.Detection)
			s := fmt.Sprintf("%d / %d / %d ms (n=%d)", lo.Milliseconds(), med.Milliseconds(), hi.Milliseconds(), len(r.Detection))
			if r.Missed > 0 {
				s += fmt.Sprintf(", %d missed", r.Missed)
			}
			return s
		},
		value: func(r *Result) float64 {
			_, med, _ := Summary(r.Detection)
			return float64(med)
		},
	},
	{
		name: "SDOWN lateness: `+sdown` minus (first unanswered PING + down-after) (min / median / max)",
		text: func(r *Result) string {
			if len(r.Lateness) == 0 {
				return "none"
			}
			lo, med, hi := Summary(r.Lateness)
			return fmt.Sprintf("%d / %d / %d ms", lo.Milliseconds(), med.Milliseconds(), hi.Milliseconds())
		},
		value: func(r *Result) float64 {
			_, med, _ := Summary(r.Lateness)
			return float64(med)
		},
	},
	{
		name: "machine's 1-minute load average after the steady window",
		text: func(r *Result) string { return fmt.Sprintf("%.1f", r.Load) },
	},
	{
		name: "what the fleet received per second, steady (new connections; PING, INFO, PUBLISH, other commands)",
		text: func(r *Result) string {
			if r.FleetRates == nil {
				return "-"
			}
			other := 0.0
			for k, v := range r.FleetRates {
				switch k {
				case "accepted", "ping", "info", "publish":
				default:
					other += v
				}
			}
			f := r.FleetRates
			return fmt.Sprintf("%.1f; %.0f, %.1f, %.0f, %.1f", f["accepted"], f["ping"], f["info"], f["publish"], other)
		},
		value: func(r *Result) float64 { return r.FleetRates["ping"] + r.FleetRates["info"] + r.FleetRates["publish"] },
	},
	{
		name: "fake fleet's CPU, steady (not a sentinel's)",
		text: func(r *Result) string { return fmt.Sprintf("%.1f %% of a core", r.FleetCPU) },
	},
}

func cell(r *Result, m metric) (string, bool) {
	if r == nil {
		return "not run", false
	}
	if len(r.Errors) > 0 && r.ConvergeTime == 0 {
		return "failed", false
	}
	return m.text(r), true
}

func secs(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", d.Seconds()), ".0") + " s"
}
