package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Faults is the body of POST /__fault. It replaces the previous faults
// entirely; a field left out is off. Example:
//
//	{"target":"watch","rechunk":{"min":1,"max":64}}
//	{"target":"watch","drop_after_events":3,"drop_count":1}
//	{"target":"list","status":{"code":429,"retry_after":2,"count":1}}
//	{"watches":"hold"}
//	{"resource":"pods","watches":"hold"}
type Faults struct {
	// Which requests the body, status and delay faults apply to: "watch"
	// (the default), "list", "get", "write" or "all".
	Target string `json:"target,omitempty"`
	// Re-chunk response bodies: every read is cut into pieces of Min..Max
	// bytes, each written and flushed on its own, DelayUS apart.
	Rechunk *Rechunk `json:"rechunk,omitempty"`
	// Cut the connection after this many body bytes of a response.
	DropAfterBytes int64 `json:"drop_after_bytes,omitempty"`
	// Cut the connection inside event K+1: after K complete lines, pass
	// 1..32 more bytes (less than any event), then cut.
	DropAfterEvents int `json:"drop_after_events,omitempty"`
	// How many responses to cut (0: every matching one while set).
	DropCount int `json:"drop_count,omitempty"`
	// Write Inject into the body once, right after line InjectAfterEvents
	// (a malformed stream when it is not JSON); InjectCount responses (0:
	// all while set).
	Inject            string `json:"inject,omitempty"`
	InjectAfterEvents int    `json:"inject_after_events,omitempty"`
	InjectCount       int    `json:"inject_count,omitempty"`
	// Answer the next Count matching requests with this status instead of
	// forwarding them (0: all while set).
	Status *StatusFault `json:"status,omitempty"`
	// Wait this long before forwarding a matching request.
	DelayMS int `json:"delay_ms,omitempty"`
	// Watch requests, whatever Target says: "" forward, "refuse" close the
	// connection without an answer, "hold" keep them waiting until the mode
	// changes, then forward them.
	Watches string `json:"watches,omitempty"`
	// When set, every fault above (the target faults and Watches) applies
	// only to requests for this resource: the collection segment of the
	// path, e.g. "pods" for /api/v1/pods and /api/v1/namespaces/NS/pods/x,
	// "jobs" for /apis/batch/v1/namespaces/NS/jobs. Other requests are
	// forwarded untouched.
	Resource string `json:"resource,omitempty"`
}

type Rechunk struct {
	Min     int `json:"min"`
	Max     int `json:"max"`
	DelayUS int `json:"delay_us,omitempty"`
}

type StatusFault struct {
	Code       int `json:"code"`
	RetryAfter int `json:"retry_after,omitempty"`
	Count      int `json:"count,omitempty"`
}

// Entry is one line of GET /__fault/log.
type Entry struct {
	Seq    int    `json:"seq"`
	TimeMS int64  `json:"time_ms"` // Unix milliseconds at arrival
	Kind   string `json:"kind"`    // watch, list, get, write
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query"`
	Status int    `json:"status"` // 0 when no answer was sent
	Fault  string `json:"fault,omitempty"`
	Bytes  int64  `json:"bytes"`
	// The collection the path names ("pods", "jobs", ...; "" for
	// discovery and other non-resource paths).
	Resource string `json:"resource,omitempty"`
}

type proxy struct {
	rp      *httputil.ReverseProxy
	verbose bool

	mu        sync.Mutex
	f         Faults
	rnd       *rand.Rand
	statusN   int // status faults left (when Count > 0)
	dropN     int // drops left (when DropCount > 0)
	injectN   int // injections left (when InjectCount > 0)
	holdCh    chan struct{}
	heldNow   int // watches waiting in a hold right now
	watches   map[int]*watchReg
	entries   []*Entry
	counters  map[string]int
	nextWatch int
}

func newProxy(seed int64, verbose bool) *proxy {
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	return &proxy{
		verbose:  verbose,
		rnd:      rand.New(rand.NewSource(seed)),
		holdCh:   make(chan struct{}),
		watches:  map[int]*watchReg{},
		counters: map[string]int{},
	}
}

// kind classifies a request the way the apiserver's verbs do.
func kind(r *http.Request) string {
	if r.Method != http.MethodGet {
		return "write"
	}
	q := r.URL.Query()
	if w := q.Get("watch"); w == "1" || w == "true" {
		return "watch"
	}
	if parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); (len(parts) >= 3 && parts[0] == "api" && parts[2] == "watch") ||
		(len(parts) >= 4 && parts[0] == "apis" && parts[3] == "watch") {
		return "watch" // the deprecated /api/v1/watch/... form
	}
	rest, ok := apiRest(r.URL.Path)
	if !ok {
		return "get"
	}
	if len(rest) >= 1 && rest[0] == "namespaces" {
		if len(rest) == 1 || len(rest) == 3 {
			return "list"
		}
		return "get"
	}
	if len(rest) == 1 {
		return "list"
	}
	return "get"
}

// apiRest is what follows /api/VERSION or /apis/GROUP/VERSION in path
// (without the deprecated "watch" segment); ok is false for other paths.
func apiRest(path string) (rest []string, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		rest = parts[3:]
	default:
		return nil, false
	}
	if len(rest) >= 1 && rest[0] == "watch" {
		rest = rest[1:]
	}
	return rest, true
}

// resourceOf is the collection a request is for: "pods" for
// /api/v1/pods, /api/v1/namespaces/NS/pods and .../pods/NAME/status;
// "namespaces" for /api/v1/namespaces[/NS[/status|/finalize]]; "" for
// discovery and other non-resource paths.
func resourceOf(path string) string {
	rest, ok := apiRest(path)
	if !ok || len(rest) == 0 {
		return ""
	}
	if rest[0] == "namespaces" && len(rest) >= 3 {
		switch {
		case len(rest) == 3 && (rest[2] == "status" || rest[2] == "finalize"):
			return "namespaces"
		default:
			return rest[2]
		}
	}
	return rest[0]
}

func (p *proxy) matches(k string) bool {
	t := p.f.Target
	if t == "" {
		t = "watch"
	}
	return t == "all" || t == k
}

// forResource: the faults apply to a request for resource res.
func (p *proxy) forResource(res string) bool {
	return p.f.Resource == "" || p.f.Resource == res
}

// bodyFault is what one response gets, decided when it arrives.
// watchReg is a watch in flight, for kill-watches.
type watchReg struct {
	cancel   context.CancelFunc
	bf       *bodyFault
	resource string
}

type bodyFault struct {
	killed      atomic.Bool // cut by kill-watches: never let it end cleanly
	rechunk     *Rechunk
	dropBytes   int64
	dropEvents  int
	inject      string
	injectAfter int
	rnd         *rand.Rand
	entry       *Entry
	proxy       *proxy
}

type ctxKey struct{}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/__fault") {
		p.control(w, r)
		return
	}
	k := kind(r)
	res := resourceOf(r.URL.Path)
	e := &Entry{TimeMS: time.Now().UnixMilli(), Kind: k, Method: r.Method, Path: r.URL.Path,
		Query: r.URL.RawQuery, Resource: res}

	p.mu.Lock()
	e.Seq = len(p.entries) + 1
	p.entries = append(p.entries, e)
	p.counters["requests_"+k]++
	ours := p.forResource(res) // every fault below is for this resource only
	match := ours && p.matches(k)
	var status *StatusFault
	if match && p.f.Status != nil && (p.f.Status.Count == 0 || p.statusN > 0) {
		s := *p.f.Status
		status = &s
		if p.f.Status.Count > 0 {
			p.statusN--
		}
	}
	delay := 0
	if match {
		delay = p.f.DelayMS
	}
	watchMode := ""
	if k == "watch" && ours {
		watchMode = p.f.Watches
	}
	hold := p.holdCh
	bf := &bodyFault{entry: e, proxy: p, rnd: rand.New(rand.NewSource(p.rnd.Int63()))}
	if match && (p.f.DropCount == 0 || p.dropN > 0) &&
		(p.f.DropAfterBytes > 0 || p.f.DropAfterEvents > 0) {
		bf.dropBytes = p.f.DropAfterBytes
		bf.dropEvents = p.f.DropAfterEvents
		if p.f.DropCount > 0 {
			p.dropN--
		}
	}
	if match && p.f.Inject != "" && (p.f.InjectCount == 0 || p.injectN > 0) {
		bf.inject, bf.injectAfter = p.f.Inject, p.f.InjectAfterEvents
		if p.f.InjectCount > 0 {
			p.injectN--
		}
	}
	if match && p.f.Rechunk != nil {
		rc := *p.f.Rechunk
		bf.rechunk = &rc
	}
	p.mu.Unlock()
	if p.verbose {
		log.Printf("%s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
	}

	switch watchMode {
	case "refuse":
		p.mark(e, "refused", 0)
		panic(http.ErrAbortHandler) // closes the connection, no answer
	case "hold":
		p.mark(e, "held", 0)
		p.mu.Lock()
		p.heldNow++
		p.mu.Unlock()
		select {
		case <-hold:
		case <-r.Context().Done():
		}
		p.mu.Lock()
		p.heldNow--
		p.mu.Unlock()
		if r.Context().Err() != nil {
			return
		}
	}
	if delay > 0 {
		select {
		case <-time.After(time.Duration(delay) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	if status != nil {
		p.mark(e, "status", status.Code)
		w.Header().Set("Content-Type", "application/json")
		if status.RetryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(status.RetryAfter))
		}
		w.WriteHeader(status.Code)
		reason := http.StatusText(status.Code)
		json.NewEncoder(w).Encode(map[string]any{
			"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
			"status": "Failure", "message": "fault-proxy: injected " + reason,
			"reason":  strings.ReplaceAll(reason, " ", ""),
			"code":    status.Code,
			"details": map[string]any{"retryAfterSeconds": status.RetryAfter},
		})
		return
	}

	ctx := context.WithValue(r.Context(), ctxKey{}, bf)
	if k == "watch" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		p.mu.Lock()
		id := p.nextWatch
		p.nextWatch++
		p.watches[id] = &watchReg{cancel, bf, res}
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.watches, id)
			p.mu.Unlock()
			cancel()
		}()
	}
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// mark records an injected fault on the log entry and in the counters.
func (p *proxy) mark(e *Entry, fault string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counters[fault]++
	if status != 0 {
		e.Status = status
		fault = fmt.Sprintf("%s %d", fault, status)
	}
	e.Fault = fault
}

// killWatches cuts the watches in flight: all of them, or (resource not "")
// only those for that resource. Held watches are not in flight yet.
func (p *proxy) killWatches(resource string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for id, w := range p.watches {
		if resource != "" && w.resource != resource {
			continue
		}
		w.bf.killed.Store(true)
		w.cancel()
		delete(p.watches, id)
		n++
	}
	p.counters["killed"] += n
	return n
}

// errorHandler: a watch killed before the server's headers arrived is cut
// too, rather than answered with 502.
func (p *proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if bf, _ := r.Context().Value(ctxKey{}).(*bodyFault); bf != nil && bf.killed.Load() {
		panic(http.ErrAbortHandler)
	}
	log.Printf("upstream: %v", err)
	w.WriteHeader(http.StatusBadGateway)
}

func (p *proxy) modifyResponse(resp *http.Response) error {
	bf, _ := resp.Request.Context().Value(ctxKey{}).(*bodyFault)
	if bf == nil {
		return nil
	}
	p.mu.Lock()
	bf.entry.Status = resp.StatusCode
	p.mu.Unlock()
	resp.Body = &faultBody{ReadCloser: resp.Body, f: bf}
	return nil
}

var errDropped = errors.New("fault-proxy: connection dropped")

// faultBody re-chunks and cuts a response body. The reverse proxy flushes
// after every write, so each piece Read returns goes out on its own.
type faultBody struct {
	io.ReadCloser
	f        *bodyFault
	buf      []byte
	off      int
	sent     int64
	lines    int
	armed    bool // the K-th line has passed
	budget   int  // bytes of event K+1 still allowed through
	err      error
	dropped  bool
	pending  []byte // injected bytes still to send
	injected bool
}

func (b *faultBody) Read(p []byte) (int, error) {
	if b.dropped {
		return 0, errDropped
	}
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		return n, nil
	}
	if b.off == len(b.buf) {
		if b.err != nil {
			return 0, b.err
		}
		if cap(b.buf) < 32*1024 {
			b.buf = make([]byte, 32*1024)
		}
		b.buf = b.buf[:cap(b.buf)]
		n, err := b.ReadCloser.Read(b.buf)
		if b.f.killed.Load() {
			// A cancelled upstream read may look like a clean EOF; a
			// killed watch must look cut to the client.
			b.dropped = true
			return 0, errDropped
		}
		b.buf, b.off, b.err = b.buf[:n], 0, err
		if n == 0 {
			return 0, err
		}
	}
	piece := b.buf[b.off:]
	if rc := b.f.rechunk; rc != nil && rc.Max > 0 {
		lo := max(rc.Min, 1)
		n := lo
		if rc.Max > lo {
			n += b.f.rnd.Intn(rc.Max - lo + 1)
		}
		if n < len(piece) {
			piece = piece[:n]
		}
		if rc.DelayUS > 0 && b.sent > 0 {
			time.Sleep(time.Duration(rc.DelayUS) * time.Microsecond)
		}
		b.f.proxy.mu.Lock()
		b.f.proxy.counters["pieces"]++
		b.f.proxy.mu.Unlock()
	}
	if len(piece) > len(p) {
		piece = piece[:len(p)] // cut() must see exactly what is sent
	}
	piece = b.cut(piece)
	n := copy(p, piece)
	b.off += n
	b.sent += int64(n)
	b.f.proxy.mu.Lock()
	b.f.entry.Bytes = b.sent
	b.f.proxy.mu.Unlock()
	if n == 0 && b.dropped {
		return 0, errDropped
	}
	return n, nil
}

// cut shortens piece to where the connection must drop or bytes must be
// injected, and marks it. Lines are counted on what is actually sent.
func (b *faultBody) cut(piece []byte) []byte {
	f := b.f
	if f.dropBytes > 0 && b.sent+int64(len(piece)) >= f.dropBytes {
		piece = piece[:f.dropBytes-b.sent]
		b.drop("drop_after_bytes")
	}
	if f.dropEvents == 0 && (f.inject == "" || b.injected) {
		return piece
	}
	for i, c := range piece {
		if b.armed {
			if b.budget == 0 {
				b.drop("drop_after_events")
				return piece[:i]
			}
			b.budget--
		}
		if c != '\n' {
			continue
		}
		b.lines++
		if f.dropEvents > 0 && b.lines == f.dropEvents {
			b.armed, b.budget = true, 1+f.rnd.Intn(32)
		}
		if f.inject != "" && !b.injected && b.lines == f.injectAfter {
			b.injected = true
			b.pending = []byte(f.inject)
			p := f.proxy
			p.mu.Lock()
			f.entry.Fault = "injected"
			p.counters["injected"]++
			p.mu.Unlock()
			return piece[:i+1]
		}
	}
	return piece
}

func (b *faultBody) drop(why string) {
	b.dropped = true
	p := b.f.proxy
	p.mu.Lock()
	b.f.entry.Fault = why
	p.counters["dropped"]++
	p.mu.Unlock()
}

func (p *proxy) control(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/__fault" && r.Method == http.MethodGet:
		p.mu.Lock()
		out := map[string]any{"faults": p.f, "counters": p.counters, "watches_open": len(p.watches),
			"watches_held": p.heldNow}
		json.NewEncoder(w).Encode(out)
		p.mu.Unlock()
	case r.URL.Path == "/__fault" && r.Method == http.MethodPost:
		var f Faults
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil && err != io.EOF {
			http.Error(w, `{"error":"`+strings.ReplaceAll(err.Error(), `"`, `'`)+`"}`, 400)
			return
		}
		switch f.Watches {
		case "", "refuse", "hold":
		default:
			http.Error(w, `{"error":"watches: want \"\", \"refuse\" or \"hold\""}`, 400)
			return
		}
		p.mu.Lock()
		if p.f.Watches == "hold" && (f.Watches != "hold" || f.Resource != p.f.Resource) {
			close(p.holdCh) // release the held watches
			p.holdCh = make(chan struct{})
		}
		p.f = f
		p.statusN, p.dropN, p.injectN = 0, f.DropCount, f.InjectCount
		if f.Status != nil {
			p.statusN = f.Status.Count
		}
		p.mu.Unlock()
		log.Printf("faults: %+v", f)
		w.Write([]byte("{}\n"))
	case r.URL.Path == "/__fault/kill-watches" && r.Method == http.MethodPost:
		fmt.Fprintf(w, "{\"killed\":%d}\n", p.killWatches(r.URL.Query().Get("resource")))
	case r.URL.Path == "/__fault/log" && r.Method == http.MethodGet:
		p.mu.Lock()
		json.NewEncoder(w).Encode(p.entries)
		p.mu.Unlock()
	default:
		http.Error(w, `{"error":"not found"}`, 404)
	}
}
