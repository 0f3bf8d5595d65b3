"""A stand-in for the tenant's Python data connector: load_cert_chain + hostname check.

Usage: connector.py <port> <server_hostname> <ca.crt> <client.crt> <client.key> <tenant_id>
Prints the gateway's reply, or "error: <reason>" and exits 1.
"""
import json
import socket
import ssl
import sys

port, hostname, ca, cert, key, tenant_id = sys.argv[1:7]
context = ssl.create_default_context(cafile=ca)
# Python 3.13's default context adds these two flags; set them here so 3.11 is as strict.
context.verify_flags |= ssl.VERIFY_X509_STRICT | getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
try:
    context.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=hostname) as tls:
            tls.sendall((json.dumps({"tenant_id": tenant_id}) + "\n").encode())
            reply = tls.makefile().readline().strip()
    if not reply:
        raise ConnectionError("connection closed without a reply")
    print(reply)
except (ssl.SSLError, ssl.CertificateError, OSError) as error:
    print(f"error: {error}")
    sys.exit(1)
