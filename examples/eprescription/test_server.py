#!/usr/bin/env python3
"""A local stand-in for an e-prescription service, to try lecteur end to end.

The real service's profile is not public; this server checks what is:
- TLS 1.2 with a client certificate issued by the CA it trusts (the CPS
  authentication certificate; the TLS signature is made by the card);
- POST /prescriptions with JSON {document_b64, signature_b64,
  certificate_der_b64, assertion}: the document's signature verifies with the
  signature certificate (openssl), that certificate names the same holder as
  the TLS client certificate, and the assertion's XML signature verifies
  (xmlsec1).

    python3 test_server.py --ca CA.pem --cert SERVER.pem --key SERVER.key
prints the port it listens on (127.0.0.1, chosen by the system), then serves.
"""
import argparse
import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, HTTPServer


def run(args, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True)


def subject_of(der):
    """The certificate's subject, RFC 2253, by openssl."""
    out = run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-nameopt", "RFC2253"], der)
    return out.stdout.decode().strip().removeprefix("subject=")


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        if self.path != "/prescriptions":
            return self.reply(404, {"error": "unknown path"})
        length = int(self.headers.get("Content-Length", "0"))
        if length > 1 << 20:
            return self.reply(413, {"error": "too large"})
        try:
            req = json.loads(self.rfile.read(length))
            document = base64.b64decode(req["document_b64"], validate=True)
            signature = base64.b64decode(req["signature_b64"], validate=True)
            signer = base64.b64decode(req["certificate_der_b64"], validate=True)
            assertion = req["assertion"].encode()
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": f"bad request: {e}"})
        client = self.connection.getpeercert(binary_form=True)
        problems = check(document, signature, signer, assertion, client, self.server.ca)
        if problems:
            return self.reply(422, {"accepted": False, "problems": problems})
        self.reply(201, {"accepted": True, "signer": subject_of(signer)})

    def log_message(self, *args):
        pass  # a prescription server logs no patient data


def check(document, signature, signer, assertion, client, ca):
    problems = []
    with tempfile.TemporaryDirectory() as d:
        cert = os.path.join(d, "signer.der")
        with open(cert, "wb") as f:
            f.write(signer)
        key = run(["openssl", "x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout"]).stdout
        for name, data in [("pub.pem", key), ("doc", document), ("sig", signature), ("a.xml", assertion)]:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        pem = run(["openssl", "x509", "-inform", "DER", "-in", cert]).stdout
        if run(["openssl", "verify", "-CAfile", ca], pem).returncode:
            problems.append("the signature certificate is not issued by the trusted CA")
        ok = run(["openssl", "dgst", "-sha256", "-verify", os.path.join(d, "pub.pem"),
                  "-signature", os.path.join(d, "sig"), os.path.join(d, "doc")])
        if ok.returncode:
            problems.append("the document signature does not verify")
        if subject_of(signer) != subject_of(client):
            problems.append("the signer is not the TLS client")
        xml = run(["xmlsec1", "--verify", "--trusted-pem", ca, "--id-attr:ID",
                   "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", os.path.join(d, "a.xml")])
        if xml.returncode:
            problems.append("the assertion signature does not verify: " + xml.stderr.decode()[-300:])
    return problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ca", required=True, help="CA that issues the CPS certificates (PEM)")
    p.add_argument("--cert", required=True, help="server certificate (PEM)")
    p.add_argument("--key", required=True, help="server key (PEM)")
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # A CPS3 authentication key signs PKCS#1 v1.5 only: TLS 1.2, RSA PKCS#1 signatures.
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.ca = a.ca
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
