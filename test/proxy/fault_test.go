package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestResourceOf(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/pods":                            "pods",
		"/api/v1/namespaces/ns/pods":              "pods",
		"/api/v1/namespaces/ns/pods/p":            "pods",
		"/api/v1/namespaces/ns/pods/p/status":     "pods",
		"/api/v1/watch/namespaces/ns/pods":        "pods",
		"/apis/batch/v1/jobs":                     "jobs",
		"/apis/batch/v1/namespaces/ns/jobs/j":     "jobs",
		"/apis/runbook.dev/v1alpha1/workflowruns": "workflowruns",
		"/api/v1/namespaces":                      "namespaces",
		"/api/v1/namespaces/ns":                   "namespaces",
		"/api/v1/namespaces/ns/status":            "namespaces",
		"/api/v1/nodes/n":                         "nodes",
		"/api":                                    "",
		"/apis/batch/v1":                          "",
		"/version":                                "",
	} {
		if got := resourceOf(path); got != want {
			t.Errorf("resourceOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestKind(t *testing.T) {
	for u, want := range map[string]string{
		"/api/v1/pods?watch=1":                 "watch",
		"/api/v1/watch/namespaces/ns/pods":     "watch",
		"/api/v1/namespaces/ns/pods":           "list",
		"/api/v1/namespaces/ns/pods/p":         "get",
		"/apis/batch/v1/jobs":                  "list",
		"/apis/batch/v1/namespaces/ns/jobs/j":  "get",
		"/apis/batch/v1/watch/jobs":            "watch",
		"/apis/batch/v1/jobs?watch=true&rv=12": "watch",
	} {
		r := httptest.NewRequest(http.MethodGet, u, nil)
		if got := kind(r); got != want {
			t.Errorf("kind(%q) = %q, want %q", u, got, want)
		}
	}
}

// A proxy in front of a fake upstream whose watches send one line and stay
// open: {"resource":"pods","watches":"hold"} holds pod watches only, and
// kill-watches?resource=pods cuts pod watches only.
func TestResourceScopedHoldAndKill(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") != "1" {
			w.Write([]byte(`{"kind":"List","items":[]}`))
			return
		}
		w.Write([]byte("{\"type\":\"BOOKMARK\"}\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	p := newProxy(1, false)
	p.rp = &httputil.ReverseProxy{
		Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(u) },
		FlushInterval:  -1,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
	}
	srv := httptest.NewServer(p)
	defer srv.Close()

	post := func(path, body string) string {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			b.WriteString(sc.Text())
		}
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b.String())
		}
		return b.String()
	}
	state := func() (open, held int) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/__fault")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s struct {
			Open int `json:"watches_open"`
			Held int `json:"watches_held"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s.Open, s.Held
	}
	waitFor := func(what string, ok func(open, held int) bool) {
		t.Helper()
		for i := 0; i < 200; i++ {
			if ok(state()) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		o, h := state()
		t.Fatalf("%s: watches_open %d, watches_held %d", what, o, h)
	}
	// watch opens a watch; its channel gets the first line, then closes
	// when the stream ends.
	watch := func(path string) <-chan string {
		lines := make(chan string, 4)
		go func() {
			defer close(lines)
			resp, err := http.Get(srv.URL + path + "?watch=1")
			if err != nil {
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		return lines
	}
	first := func(what string, c <-chan string) {
		t.Helper()
		select {
		case l, ok := <-c:
			if !ok {
				t.Fatalf("%s: ended without an event", what)
			}
			_ = l
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no event", what)
		}
	}

	pods, jobs := watch("/api/v1/pods"), watch("/apis/batch/v1/namespaces/ns/jobs")
	first("pod watch", pods)
	first("job watch", jobs)
	waitFor("two watches open", func(o, h int) bool { return o == 2 && h == 0 })

	post("/__fault", `{"resource":"pods","watches":"hold"}`)
	if got := post("/__fault/kill-watches?resource=pods", ""); got != `{"killed":1}` {
		t.Fatalf("kill-watches?resource=pods: %s", got)
	}
	select {
	case _, ok := <-pods:
		if ok {
			t.Fatal("the pod watch got more than its first line")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the pod watch was not cut")
	}
	waitFor("the job watch still open", func(o, h int) bool { return o == 1 && h == 0 })

	pods2, jobs2 := watch("/api/v1/namespaces/ns/pods"), watch("/apis/batch/v1/jobs")
	first("a job watch during the pod hold", jobs2)
	waitFor("the new pod watch held, the job watches open", func(o, h int) bool { return o == 2 && h == 1 })
	select {
	case <-pods2:
		t.Fatal("a held pod watch answered")
	case <-time.After(200 * time.Millisecond):
	}

	// A pod list is no watch: the hold does not touch it.
	resp, err := http.Get(srv.URL + "/api/v1/namespaces/ns/pods")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("pod list during the hold: %v %v", err, resp)
	}
	resp.Body.Close()

	post("/__fault", `{}`)
	first("the released pod watch", pods2)
	waitFor("three watches open", func(o, h int) bool { return o == 3 && h == 0 })
	if got := post("/__fault/kill-watches", ""); got != `{"killed":3}` {
		t.Fatalf("kill-watches: %s", got)
	}
}

// The target faults follow the resource too: a 503 for pod lists leaves
// job lists alone.
func TestResourceScopedStatus(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	p := newProxy(1, false)
	p.rp = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) },
		ModifyResponse: p.modifyResponse, ErrorHandler: p.errorHandler}
	srv := httptest.NewServer(p)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/__fault", "application/json",
		strings.NewReader(`{"resource":"pods","target":"list","status":{"code":503}}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /__fault: %v %v", err, resp)
	}
	resp.Body.Close()
	for path, want := range map[string]int{
		"/api/v1/namespaces/ns/pods":   503,
		"/api/v1/pods":                 503,
		"/api/v1/namespaces/ns/pods/p": 200, // a get, not a list
		"/apis/batch/v1/jobs":          200,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
