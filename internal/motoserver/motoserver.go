package motoserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/cognitrail/cognitrail/internal/syncbuf"
)

// Binary is the program started; tests may point it elsewhere.
var Binary = "moto_server"

// startTimeout bounds how long moto_server may take to answer: it imports
// every service's models on start, which takes a few seconds on a cold cache.
const startTimeout = 60 * time.Second

// Server is a running moto_server.
type Server struct {
	// Endpoint is its base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	cmd      *exec.Cmd
	log      *syncbuf.Buffer
	once     sync.Once
	done     chan struct{}
}

// Available reports whether moto_server can be started here.
func Available() bool {
	_, err := exec.LookPath(Binary)
	return err == nil
}

// Require skips tb when moto_server is not installed, or fails it under CI.
func Require(tb testing.TB) {
	tb.Helper()
	if Available() {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s not found on PATH; the integration tests need it in CI", Binary)
	}
	tb.Skipf("%s not found on PATH; skipping integration test", Binary)
}

// Start starts moto_server on a free loopback port and waits until it
// answers. The caller must call Stop. moto_server is given port 0 and
// says which port the kernel bound: a port picked by the harness and
// released before moto binds it could be handed to another test's
// listener meanwhile (go test runs packages in parallel), and the
// readiness probe would then take that server for moto.
func Start() (*Server, error) {
	logBuf := &syncbuf.Buffer{}
	cmd := exec.Command(Binary, "-H", "127.0.0.1", "-p", "0")
	cmd.Stdout = logBuf
	cmd.Stderr = logBuf
	// Its own process group, so Stop also ends any worker it forks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("motoserver: start %s: %w", Binary, err)
	}
	s := &Server{
		cmd:  cmd,
		log:  logBuf,
		done: make(chan struct{}),
	}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, logBuf.String())
	}
	return s, nil
}

// StartT starts a server for one test and stops it at cleanup.
func StartT(tb testing.TB) *Server {
	tb.Helper()
	Require(tb)
	s, err := Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.done:
			return fmt.Errorf("motoserver: %s exited before answering", Binary)
		case <-ctx.Done():
			return fmt.Errorf("motoserver: no answer from %s within %v", Binary, startTimeout)
		case <-time.After(50 * time.Millisecond):
		}
		if s.Endpoint == "" {
			// werkzeug's start-up line names the port it bound.
			m := runningOn.FindStringSubmatch(s.log.String())
			if m == nil {
				continue
			}
			s.Endpoint = m[1]
		}
		// moto's own health endpoint: answers once the app is loaded.
		resp, err := client.Get(s.Endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
	}
}

// runningOn matches the line moto_server prints once its socket is bound.
var runningOn = regexp.MustCompile(`Running on (http://127\.0\.0\.1:[0-9]+)`)

// Reset drops every resource, so tests sharing one server start clean.
func (s *Server) Reset() error {
	resp, err := http.Post(s.Endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("motoserver: reset: %s", resp.Status)
	}
	return nil
}

// Stop ends the server (and its process group) and waits for it.
func (s *Server) Stop() {
	s.once.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Log returns what the server printed so far (for failing tests).
func (s *Server) Log() string { return s.log.String() }

// Region is the region the test clients use.
const Region = "us-east-1"

// AWSConfig returns an SDK configuration for clients of this server: its
// endpoint, a region, and dummy static credentials (moto accepts any).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

// Main is a test binary's TestMain for packages that share one server: it
// starts moto_server when it is installed, hands it (or the error) to set,
// runs the tests, stops the server and exits. Tests still call Require, so
// a missing server skips them, or fails them under CI.
func Main(m *testing.M, set func(*Server, error)) {
	var s *Server
	var err error
	if Available() {
		s, err = Start()
	}
	set(s, err)
	code := m.Run()
	if s != nil {
		s.Stop()
	}
	os.Exit(code)
}
