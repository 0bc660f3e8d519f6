package node

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves pprof's handlers on addr (issue 5: profile before
// optimising). It returns the server, which Shutdown closes.
func (n *Node) startPprof(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Warn("pprof server stopped", "err", err)
		}
	}()
	n.log.Info("pprof on", "addr", ln.Addr().String())
	return srv, nil
}
