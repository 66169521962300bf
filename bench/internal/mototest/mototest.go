// Package mototest runs moto_server, an independent AWS emulator, on
// 127.0.0.1 for the tests of bench's AWS code paths: the same SDK calls bench
// makes against AWS, answered by an implementation written by other hands
// than bench's fakes.
package mototest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region the tests use; moto keeps separate state per region.
const Region = "us-east-1"

// startTimeout bounds how long moto_server may take to answer (it imports
// every AWS service model at start, a few seconds on a busy machine).
const startTimeout = 60 * time.Second

// Command finds the moto_server command: on PATH, else in
// $HOME/.pyenv/shims, where the pyenv Python that carries moto puts its
// commands (a non-interactive shell, as CI runs, does not set up pyenv's PATH).
func Command() (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".pyenv", "shims", "moto_server")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("moto_server not found on PATH or in ~/.pyenv/shims (pip install 'moto[server]')")
}

// Server is a running moto_server.
type Server struct {
	// Endpoint is its base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
}

// Start runs moto_server on a free port of 127.0.0.1 until the test ends. It
// skips the test, saying why, only when the moto_server command is missing;
// a moto_server that is there but does not start fails the test.
func Start(t testing.TB) *Server {
	t.Helper()
	cmdPath, err := Command()
	if err != nil {
		t.Skipf("skipping the moto-backed test: %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("moto_server: %v", err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(cmdPath, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Its own process group, killed as a whole; and it dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmdPath, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if err := s.waitReady(exited); err != nil {
		stop()
		t.Fatalf("moto_server on port %d: %v\n%s", port, err, logs.String())
	}
	t.Cleanup(stop)
	return s
}

// waitReady polls moto's own API until it answers.
func (s *Server) waitReady(exited <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/moto-api/data.json", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before answering: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no answer within %s", startTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Config is an SDK configuration that sends every call to this server, with
// placeholder credentials (moto accepts any).
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
