package ring

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// ClusterPort owns a node's cluster port (docs/architecture.md §4, §5): one UDP socket
// for memberlist's gossip packets and one TCP listener shared by
// memberlist's streams and the internode RPC. A TCP connection is handed to
// the RPC when its first byte says so (IsRPC), else to memberlist. It
// implements memberlist.Transport, like memberlist's own NetTransport but
// on a listener that also serves the RPC.
//
// ClusterPort owns its goroutines: the TCP accept loop, the UDP read loop
// and one short-lived goroutine per accepted connection that reads its
// first byte. Shutdown (memberlist calls it) closes the sockets and waits
// for them.
type ClusterPort struct {
	tcp       *net.TCPListener
	udp       *net.UDPConn
	advertise *net.TCPAddr
	isRPC     func(first byte) bool
	serveRPC  func(net.Conn)
	log       *slog.Logger

	packets chan *memberlist.Packet
	streams chan net.Conn

	shutdown chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

// ClusterPortConfig configures ListenCluster.
type ClusterPortConfig struct {
	// Addr is the host:port to bind (TCP and UDP).
	Addr string
	// Advertise is the host:port other nodes dial; empty means Addr (or,
	// when Addr binds every interface, the first non-loopback address
	// memberlist can find).
	Advertise string
	// IsRPC tells internode RPC connections from memberlist's by their
	// first byte; ServeRPC takes ownership of those connections.
	IsRPC    func(first byte) bool
	ServeRPC func(net.Conn)
	Logger   *slog.Logger
}

// firstByteTimeout bounds how long an accepted connection may take to send
// its first byte before it is dropped.
const firstByteTimeout = 10 * time.Second

// ListenCluster binds the cluster port and starts serving it.
func ListenCluster(cfg ClusterPortConfig) (*ClusterPort, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.IsRPC == nil || cfg.ServeRPC == nil {
		return nil, errors.New("ring: ListenCluster needs IsRPC and ServeRPC")
	}
	taddr, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ring: cluster address %q: %w", cfg.Addr, err)
	}
	tcp, err := net.ListenTCP("tcp", taddr)
	if err != nil {
		return nil, fmt.Errorf("ring: listen on cluster port: %w", err)
	}
	// Bind UDP to the port TCP got (they differ only if Addr had port 0).
	uaddr := &net.UDPAddr{IP: taddr.IP, Port: tcp.Addr().(*net.TCPAddr).Port}
	udp, err := net.ListenUDP("udp", uaddr)
	if err != nil {
		tcp.Close()
		return nil, fmt.Errorf("ring: listen on cluster port (udp): %w", err)
	}
	// Gossip bursts: a larger receive buffer keeps the kernel from
	// dropping packets while the read loop is busy.
	_ = udp.SetReadBuffer(2 << 20)
	adv := tcp.Addr().(*net.TCPAddr)
	if cfg.Advertise != "" {
		if adv, err = net.ResolveTCPAddr("tcp", cfg.Advertise); err != nil {
			tcp.Close()
			udp.Close()
			return nil, fmt.Errorf("ring: advertise address %q: %w", cfg.Advertise, err)
		}
	}
	c := &ClusterPort{
		tcp: tcp, udp: udp, advertise: adv, isRPC: cfg.IsRPC, serveRPC: cfg.ServeRPC, log: cfg.Logger,
		packets:  make(chan *memberlist.Packet, 1024),
		streams:  make(chan net.Conn),
		shutdown: make(chan struct{}),
	}
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.acceptLoop() }()
	go func() { defer c.wg.Done(); c.readLoop() }()
	return c, nil
}

// Addr is the bound cluster address.
func (c *ClusterPort) Addr() *net.TCPAddr { return c.tcp.Addr().(*net.TCPAddr) }

// AdvertiseAddr is the cluster address other nodes dial.
func (c *ClusterPort) AdvertiseAddr() string { return c.advertise.String() }

func (c *ClusterPort) acceptLoop() {
	for {
		conn, err := c.tcp.Accept()
		if err != nil {
			select {
			case <-c.shutdown:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Warn("cluster port accept", "err", err)
			time.Sleep(50 * time.Millisecond) // e.g. EMFILE: do not spin
			continue
		}
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.route(conn) }()
	}
}

// route reads a connection's first byte and hands it to its owner.
func (c *ClusterPort) route(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(firstByteTimeout))
	br := bufio.NewReaderSize(conn, 1)
	first, err := br.Peek(1)
	conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return
	}
	pc := &peekedConn{Conn: conn, r: io.MultiReader(br, conn)}
	if c.isRPC(first[0]) {
		c.serveRPC(pc)
		return
	}
	select {
	case c.streams <- pc:
	case <-c.shutdown:
		conn.Close()
	}
}

// peekedConn is a connection whose first bytes were read ahead.
type peekedConn struct {
	net.Conn
	r io.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

func (c *ClusterPort) readLoop() {
	buf := make([]byte, 65536)
	for {
		n, addr, err := c.udp.ReadFrom(buf)
		ts := time.Now()
		if err != nil {
			select {
			case <-c.shutdown:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 1 {
			continue
		}
		msg := make([]byte, n)
		copy(msg, buf[:n])
		select {
		case c.packets <- &memberlist.Packet{Buf: msg, From: addr, Timestamp: ts}:
		case <-c.shutdown:
			return
		}
	}
}

// FinalAdvertiseAddr implements memberlist.Transport.
func (c *ClusterPort) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		return net.ParseIP(ip), port, nil
	}
	return c.advertise.IP, c.advertise.Port, nil
}

// WriteTo implements memberlist.Transport.
func (c *ClusterPort) WriteTo(b []byte, addr string) (time.Time, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return time.Time{}, err
	}
	_, err = c.udp.WriteTo(b, ua)
	return time.Now(), err
}

// PacketCh implements memberlist.Transport.
func (c *ClusterPort) PacketCh() <-chan *memberlist.Packet { return c.packets }

// DialTimeout implements memberlist.Transport.
func (c *ClusterPort) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", addr)
}

// StreamCh implements memberlist.Transport.
func (c *ClusterPort) StreamCh() <-chan net.Conn { return c.streams }

// Shutdown implements memberlist.Transport: it closes both sockets and
// waits for the port's goroutines. It is idempotent.
func (c *ClusterPort) Shutdown() error {
	c.once.Do(func() {
		close(c.shutdown)
		c.tcp.Close()
		c.udp.Close()
	})
	c.wg.Wait()
	return nil
}

// ClusterAddrFor returns the default cluster address of a node whose
// client address is clientAddr: the same host, port + 10000 (Redis
// Cluster's bus port convention).
func ClusterAddrFor(clientAddr string) (string, error) {
	host, port, err := net.SplitHostPort(clientAddr)
	if err != nil {
		return "", fmt.Errorf("ring: address %q: %w", clientAddr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p+10000 > 65535 {
		return "", fmt.Errorf("ring: client port %q leaves no room for port+10000; give the cluster address explicitly", port)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+10000)), nil
}
