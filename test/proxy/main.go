// Command fault-proxy sits between a client and a real kube-apiserver and
// injects faults on request: torn chunks, connections dropped mid-event,
// 429 with Retry-After, delays, refused or held watches. Tests switch the
// faults through a control endpoint on the same port:
//
//	GET  /__fault              current faults and counters (JSON)
//	POST /__fault              replace the faults (JSON body, see Faults)
//	POST /__fault/kill-watches cut every watch in flight (?resource=pods: only those)
//	GET  /__fault/log          requests seen so far (JSON array)
//
// Usage:
//
//	fault-proxy -cluster-dir DIR [-port-file F] [-plain] [-http1]
//	fault-proxy -upstream URL -upstream-ca F -client-cert F -client-key F \
//	            (-sign-ca-cert F -sign-ca-key F | -tls-cert F -tls-key F | -plain)
//
// With -cluster-dir (the directory of test/cluster/up.sh) everything comes
// from DIR/env and DIR/pki: the serving certificate is made at start and
// signed by the cluster CA, so a kubeconfig whose server is the proxy and
// whose CA is the cluster's works unchanged.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		listen      = flag.String("listen", "127.0.0.1:0", "address to listen on")
		portFile    = flag.String("port-file", "", "write the chosen port here")
		clusterDir  = flag.String("cluster-dir", "", "test cluster directory (env, pki/)")
		upstream    = flag.String("upstream", "", "kube-apiserver URL")
		upstreamCA  = flag.String("upstream-ca", "", "CA bundle of the apiserver")
		clientCert  = flag.String("client-cert", "", "client certificate toward the apiserver")
		clientKey   = flag.String("client-key", "", "client key toward the apiserver")
		tlsCert     = flag.String("tls-cert", "", "serving certificate")
		tlsKey      = flag.String("tls-key", "", "serving key")
		signCACert  = flag.String("sign-ca-cert", "", "CA certificate to sign a serving cert with")
		signCAKey   = flag.String("sign-ca-key", "", "CA key to sign a serving cert with")
		plain       = flag.Bool("plain", false, "serve plain HTTP instead of TLS")
		http1       = flag.Bool("http1", false, "do not offer HTTP/2 to clients")
		seed        = flag.Int64("seed", 0, "random seed for the faults (0: time)")
		requestLogs = flag.Bool("v", false, "log every request to stderr")
		withParent  = flag.Bool("exit-with-parent", false, "exit when the parent process dies (tests)")
	)
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("fault-proxy: ")

	if *clusterDir != "" {
		env, err := readEnv(filepath.Join(*clusterDir, "env"))
		if err != nil {
			log.Fatal(err)
		}
		pki := filepath.Join(*clusterDir, "pki")
		setDefault(upstream, env["API_SERVER"])
		setDefault(upstreamCA, filepath.Join(pki, "ca.crt"))
		setDefault(clientCert, filepath.Join(pki, "admin.crt"))
		setDefault(clientKey, filepath.Join(pki, "admin.key"))
		if *tlsCert == "" {
			setDefault(signCACert, filepath.Join(pki, "ca.crt"))
			setDefault(signCAKey, filepath.Join(pki, "ca.key"))
		}
	}
	if *upstream == "" {
		log.Fatal("-upstream or -cluster-dir is required")
	}
	up, err := url.Parse(*upstream)
	if err != nil {
		log.Fatalf("bad -upstream: %v", err)
	}

	transport, err := upstreamTransport(*upstreamCA, *clientCert, *clientKey)
	if err != nil {
		log.Fatal(err)
	}
	p := newProxy(*seed, *requestLogs)
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(up)
			r.Out.Host = up.Host
		},
		Transport:      transport,
		FlushInterval:  -1, // stream every write: watches must not be buffered
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       log.New(os.Stderr, "fault-proxy: upstream: ", log.Ltime),
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	if *http1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	scheme := "https"
	if *plain {
		scheme = "http"
	} else {
		cert, err := servingCert(*tlsCert, *tlsKey, *signCACert, *signCAKey)
		if err != nil {
			log.Fatal(err)
		}
		protos := []string{"h2", "http/1.1"}
		if *http1 {
			protos = []string{"http/1.1"}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert},
			NextProtos: protos, MinVersion: tls.VersionTLS12})
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if *portFile != "" {
		if err := writeAtomic(*portFile, fmt.Sprintf("%d\n", port)); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%s://127.0.0.1:%d\n", scheme, port)
	os.Stdout.Sync()

	if *withParent {
		// A test that crashes or times out must not leave us behind.
		go func(ppid int) {
			for range time.Tick(500 * time.Millisecond) {
				if os.Getppid() != ppid {
					log.Print("parent gone, exiting")
					os.Exit(0)
				}
			}
		}(os.Getppid())
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.killWatches("")
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

func setDefault(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

// readEnv reads the KEY=VALUE lines of test/cluster/up.sh's env file.
func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env, sc.Err()
}

func writeAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func upstreamTransport(caFile, certFile, keyFile string) (*http.Transport, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	// HTTP/1.1 upstream: one connection per request, so cutting one watch
	// never disturbs another.
	return &http.Transport{
		TLSClientConfig:     cfg,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}, nil
}
