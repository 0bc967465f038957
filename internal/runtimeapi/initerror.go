package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Version is the Runtime API version in every path.
const Version = "2018-06-01"

// ErrorTypeHeader carries the error type of an init or invocation error.
const ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type"

// ErrorResponse is the body of an error posted to the Runtime API.
type ErrorResponse struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

// ReportInitError posts an initialisation error to the Runtime API at api
// (host:port, the value of AWS_LAMBDA_RUNTIME_API). The function should exit
// non-zero afterwards: Lambda then fails the pending invocation with this
// message.
func ReportInitError(ctx context.Context, api, errorType string, cause error) error {
	body, err := json.Marshal(ErrorResponse{ErrorMessage: cause.Error(), ErrorType: errorType})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := "http://" + api + "/" + Version + "/runtime/init/error"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("runtimeapi: init error: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ErrorTypeHeader, errorType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("runtimeapi: init error: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtimeapi: init error: %s answered %s", url, resp.Status)
	}
	return nil
}
