package runtimeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime API request headers of an invocation.
const (
	HeaderRequestID   = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs  = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID     = "Lambda-Runtime-Trace-Id"
)

// FunctionARN is the ARN the fake server says was invoked.
const FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:cognitrail-processor"

// Result is what the function posted for one invocation.
type Result struct {
	RequestID string
	// Error: the function posted to /error rather than /response.
	Error bool
	// ErrorType is the Lambda-Runtime-Function-Error-Type header of an error.
	ErrorType string
	Body      []byte
}

// Server is a fake Lambda Runtime API: Invoke queues an event, the function
// takes it with GET /runtime/invocation/next and answers it with POST
// /runtime/invocation/{id}/response or /error. Requests the real API would
// refuse (an unknown request id, a second answer) fail the server, which
// Err reports.
type Server struct {
	// Addr is host:port, the value for AWS_LAMBDA_RUNTIME_API.
	Addr string
	// Deadline is how long each invocation may take (the deadline header).
	Deadline time.Duration

	srv     *httptest.Server
	queue   chan pending
	done    chan struct{}
	initErr chan ErrorResponse
	seq     atomic.Int64

	mu      sync.Mutex
	waiting map[string]chan Result
	errs    []string
}

type pending struct {
	id    string
	event []byte
}

// NewServer starts a fake Runtime API on a loopback port. Close it when done
// (after ending the function's process).
func NewServer() *Server {
	s := &Server{
		Deadline: 5 * time.Minute,
		queue:    make(chan pending),
		done:     make(chan struct{}),
		initErr:  make(chan ErrorResponse, 1),
		waiting:  map[string]chan Result{},
	}
	mux := http.NewServeMux()
	base := "/" + Version + "/runtime/"
	mux.HandleFunc("GET "+base+"invocation/next", s.next)
	mux.HandleFunc("POST "+base+"invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, false) })
	mux.HandleFunc("POST "+base+"invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, true) })
	mux.HandleFunc("POST "+base+"init/error", s.initError)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	s.srv = httptest.NewServer(mux)
	s.Addr = strings.TrimPrefix(s.srv.URL, "http://")
	return s
}

// Close releases a function blocked in /next and stops the server.
func (s *Server) Close() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Err reports protocol violations seen so far.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return nil
	}
	return fmt.Errorf("runtimeapi: %s", strings.Join(s.errs, "; "))
}

func (s *Server) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// Invoke hands event to the function and waits for its answer, or for ctx
// (cancel it when the function's process exits).
func (s *Server) Invoke(ctx context.Context, event []byte) (Result, error) {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.seq.Add(1))
	ch := make(chan Result, 1)
	s.mu.Lock()
	s.waiting[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, id)
		s.mu.Unlock()
	}()
	select {
	case s.queue <- pending{id: id, event: event}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("runtimeapi: invocation %s not taken: %w", id, context.Cause(ctx))
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("runtimeapi: invocation %s not answered: %w", id, context.Cause(ctx))
	}
}

// InitError waits for the function to post an init error, or for ctx
// (cancel it when the function's process exits: an error posted before
// the exit is still returned).
func (s *Server) InitError(ctx context.Context) (ErrorResponse, error) {
	select {
	case e := <-s.initErr:
		return e, nil
	case <-ctx.Done():
		select {
		case e := <-s.initErr:
			return e, nil
		default:
		}
		return ErrorResponse{}, fmt.Errorf("runtimeapi: no init error: %w", context.Cause(ctx))
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	select {
	case p := <-s.queue:
		h := w.Header()
		h.Set(HeaderRequestID, p.id)
		h.Set(HeaderDeadlineMs, strconv.FormatInt(time.Now().Add(s.Deadline).UnixMilli(), 10))
		h.Set(HeaderFunctionARN, FunctionARN)
		h.Set(HeaderTraceID, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(p.event)
	case <-s.done:
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, isErr bool) {
	id := r.PathValue("id")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail("%s: reading the answer: %v", id, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	ch, ok := s.waiting[id]
	delete(s.waiting, id)
	s.mu.Unlock()
	if !ok {
		s.fail("answer for unknown or already answered request id %q", id)
		http.Error(w, "unknown request id", http.StatusBadRequest)
		return
	}
	ch <- Result{RequestID: id, Error: isErr, ErrorType: r.Header.Get(ErrorTypeHeader), Body: body}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	var e ErrorResponse
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &e)
	}
	if err != nil {
		s.fail("init error body %q: %v", body, err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if e.ErrorType == "" {
		e.ErrorType = r.Header.Get(ErrorTypeHeader)
	}
	select {
	case s.initErr <- e:
	default:
		s.fail("a second init error: %s", body)
	}
	w.WriteHeader(http.StatusAccepted)
}
