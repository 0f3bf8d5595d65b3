// A stand-in for the platform's Go gateway: the same crypto/tls settings and the same tenant rule.
// It loads ca.crt (one root, or a bundle during a rollover), server.crt (the leaf, then its
// intermediate when there is one) and server.key, requires and verifies a client certificate, refuses
// one that crl.pem or root-crl.pem revokes (each CRL checked against the CA on the verified chain that
// signed it), takes the tenant id from the verified certificate's CN, and refuses a registration that
// names another tenant. SIGHUP reloads every file, as the platform's operators do between the phases
// of a CA rollover.
// Usage: gateway <certs-dir>; prints "listening <port>", then "reloaded" (or "reload error: ...")
// after each SIGHUP, and serves until killed.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
)

type state struct {
	config *tls.Config
	crls   []*x509.RevocationList
}

var current atomic.Pointer[state]

// readCRLs reads every CRL in the PEM files that exist among names.
func readCRLs(dir string, names ...string) ([]*x509.RevocationList, error) {
	var lists []*x509.RevocationList
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			list, err := x509.ParseRevocationList(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			lists = append(lists, list)
		}
	}
	return lists, nil
}

// revoked says which certificate of the verified chain a CRL signed by its issuer lists.
func revoked(chain []*x509.Certificate, lists []*x509.RevocationList) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, list := range lists {
			if list.CheckSignatureFrom(issuer) != nil {
				continue
			}
			for _, entry := range list.RevokedCertificates {
				if entry.SerialNumber.Cmp(cert.SerialNumber) == 0 {
					return fmt.Errorf("certificate revoked: %s (serial %x)", cert.Subject.CommonName, cert.SerialNumber)
				}
			}
		}
	}
	return nil
}

func load(dir string) (*state, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no certificate in ca.crt")
	}
	lists, err := readCRLs(dir, "crl.pem", "root-crl.pem")
	if err != nil {
		return nil, err
	}
	s := &state{crls: lists}
	s.config = &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
		VerifyPeerCertificate: func(_ [][]byte, chains [][]*x509.Certificate) error {
			for _, chain := range chains {
				if err := revoked(chain, s.crls); err == nil {
					return nil
				} else if len(chains) == 1 {
					return err
				}
			}
			return errors.New("certificate revoked on every verified chain")
		},
	}
	return s, nil
}

func main() {
	dir := os.Args[1]
	s, err := load(dir)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	current.Store(s)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if s, err := load(dir); err != nil {
				fmt.Println("reload error:", err)
			} else {
				current.Store(s)
				fmt.Println("reloaded")
			}
		}
	}()
	config := &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return current.Load().config, nil },
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
