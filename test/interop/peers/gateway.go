// A stand-in for the platform's Go gateway: the same crypto/tls settings and the same tenant rule.
// It loads ca.crt, server.crt and server.key, requires and verifies a client certificate, takes the
// tenant id from the verified certificate's CN, and refuses a registration that names another tenant.
// Usage: gateway <certs-dir>; prints "listening <port>" and serves until killed.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

func main() {
	dir := os.Args[1]
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		fmt.Println("error: no certificate in ca.crt")
		os.Exit(1)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}
	listener, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", listener.Addr().(*net.TCPAddr).Port)
	for {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		go serve(conn.(*tls.Conn))
	}
}

func serve(conn *tls.Conn) {
	defer conn.Close()
	if err := conn.Handshake(); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	tenantID := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	fmt.Println("tenant:", tenantID)
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return
	}
	var registration struct {
		TenantID string `json:"tenant_id"`
	}
	if json.Unmarshal(line, &registration) != nil || registration.TenantID != tenantID {
		fmt.Fprintln(conn, "error: tenant_id mismatch")
		return
	}
	fmt.Fprintln(conn, "ok", tenantID)
}
