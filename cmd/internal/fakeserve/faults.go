package fakeserve

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/visengine-go/visengine/visenginetest"
)

// FaultSpec is one --fault: a visenginetest.Fault for requests matching
// Method and Pattern.
type FaultSpec struct {
	Method, Pattern string
	Spec            string // the actions as given
	Fault           visenginetest.Fault
}

// Faults is the repeatable --fault flag.
type Faults []FaultSpec

// String lists the faults as given.
func (f *Faults) String() string {
	if f == nil {
		return ""
	}
	var parts []string
	for _, s := range *f {
		parts = append(parts, s.Method+" "+s.Pattern)
	}
	return strings.Join(parts, "; ")
}

// Set parses one --fault and adds it.
func (f *Faults) Set(spec string) error {
	s, err := ParseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, s)
	return nil
}

// install adds the faults to srv, in the order given; a combination the
// fake cannot serve (its Fault panics on it) is an error.
func (f *Faults) install(srv *visenginetest.Server) (err error) {
	for _, s := range *f {
		func() {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("--fault %s %s: %v", s.Method, s.Pattern, strings.TrimPrefix(fmt.Sprint(v), "visenginetest: Fault: "))
				}
			}()
			srv.Fault(s.Method, s.Pattern, s.Fault)
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// ParseFault reads 'METHOD PATH=ACTION[,ACTION...]' (see FlagHelp).
func ParseFault(spec string) (FaultSpec, error) {
	var s FaultSpec
	target, actions, ok := strings.Cut(spec, "=")
	method, pattern, ok2 := strings.Cut(strings.TrimSpace(target), " ")
	pattern = strings.TrimSpace(pattern)
	if !ok || !ok2 || method == "" || !strings.HasPrefix(pattern, "/") || strings.TrimSpace(actions) == "" {
		return s, fmt.Errorf("%q is not 'METHOD PATH=ACTION', e.g. 'PUT /richiesta/{id}=drop-after-apply'", spec)
	}
	s.Method, s.Pattern, s.Spec = strings.ToUpper(method), pattern, strings.TrimSpace(actions)
	// body:TEXT comes last and takes the rest, commas included.
	if i := strings.Index(","+actions, ",body:"); i >= 0 {
		s.Fault.Body = []byte(actions[i+len("body:"):])
		if actions = strings.TrimSuffix(actions[:max(i-1, 0)], ","); actions == "" {
			return s, fmt.Errorf("fault %q: body: needs a status to answer with", spec)
		}
	}
	for _, a := range strings.Split(actions, ",") {
		if err := applyAction(&s.Fault, strings.TrimSpace(a)); err != nil {
			return s, fmt.Errorf("fault %q: %w", spec, err)
		}
	}
	return s, nil
}

// faultActions are the actions ParseFault knows, for its errors.
const faultActions = "drop-before-apply, drop-after-apply, STATUS, status:N, apply, apply-after:DUR, delay:DUR, truncate:N, stale-reads:N, retry-after:SECS, times:N, always, body:TEXT (last)"

// takesArg lists the actions, and whether each takes ":ARG".
var takesArg = map[string]bool{
	"drop-before-apply": false, "drop-after-apply": false, "apply": false, "always": false,
	"status": true, "truncate": true, "stale-reads": true, "times": true, "retry-after": true, "delay": true, "apply-after": true,
}

// applyAction sets what one action says on f.
func applyAction(f *visenginetest.Fault, action string) error {
	name, arg, hasArg := strings.Cut(action, ":")
	if n, err := strconv.Atoi(action); err == nil {
		name, arg, hasArg = "status", strconv.Itoa(n), true
	}
	if want, known := takesArg[name]; !known || want != hasArg {
		return fmt.Errorf("unknown action %q (known: %s)", action, faultActions)
	}
	var err error
	switch name {
	case "drop-before-apply":
		f.Drop = visenginetest.DropBeforeApply
	case "drop-after-apply":
		f.Drop = visenginetest.DropAfterApply
	case "apply":
		f.Apply = true
	case "always":
		f.Times = -1
	case "status":
		f.Status, err = number(arg, 100, 599)
	case "truncate":
		f.Truncate, err = number(arg, 0, 1<<30)
	case "stale-reads":
		f.StaleReads, err = number(arg, 1, 1<<20)
	case "times":
		f.Times, err = number(arg, 1, 1<<20)
	case "retry-after":
		_, err = number(arg, 0, 1<<30)
		f.RetryAfter = arg
	case "delay":
		f.Delay, err = duration(arg)
	case "apply-after":
		f.ApplyAfter, err = duration(arg)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func number(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a whole number from %d to %d", s, lo, hi)
	}
	return n, nil
}

func duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 500ms or 2s", s)
	}
	return d, nil
}

// RateLimit is --rate-limit N/s (or /m, /h).
type RateLimit struct {
	N   int
	Per time.Duration
}

// String prints the limit as given, or "" for none.
func (r *RateLimit) String() string {
	if r == nil || r.N <= 0 {
		return ""
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	return fmt.Sprintf("%d/%s", r.N, unit)
}

// Set parses N/s, N/m or N/h; 0 is no limit.
func (r *RateLimit) Set(s string) error {
	if s == "0" || s == "" {
		*r = RateLimit{}
		return nil
	}
	num, unit, ok := strings.Cut(s, "/")
	per, known := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	n, err := strconv.Atoi(num)
	if !ok || !known || err != nil || n <= 0 {
		return fmt.Errorf("%q is not N/s, N/m or N/h, e.g. 5/s", s)
	}
	*r = RateLimit{N: n, Per: per}
	return nil
}
