package agent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTCPPortCheckerAndHTTPDrainer(t *testing.T) {
	var drained bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/drain" {
			drained = true
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	ctx := context.Background()

	assert.True(t, TCPPortChecker{Timeout: time.Second}.Answers(ctx, port))
	require.NoError(t, HTTPDrainer{}.Drain(ctx, port, "/drain", time.Second))
	assert.True(t, drained)
	assert.ErrorContains(t, HTTPDrainer{}.Drain(ctx, port, "/nope", time.Second), "HTTP 404")

	srv.Close()
	assert.False(t, TCPPortChecker{Timeout: time.Second}.Answers(ctx, port))
}
