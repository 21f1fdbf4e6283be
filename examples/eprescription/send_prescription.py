#!/usr/bin/env python3
"""How practice software sends an e-prescription with lecteur (see
docs/e-prescription.md): sign the prescription with the CPS signature key and
build the signed assertion through lecteurd's socket, then post both over
mutual TLS whose client key is the CPS authentication key, reached through
lecteur's PKCS#11 module (here by curl with OpenSSL's pkcs11 engine).

    python3 send_prescription.py --url https://127.0.0.1:PORT/prescriptions \\
        --server-ca SERVER_CA.pem --module /usr/lib/.../liblecteur_pkcs11.so PIN

Prints the service's answer (JSON) on its last line.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from lecteur_demo import Lecteur  # noqa: E402  (the example client of the socket API)

OPENSSL_CONF = """openssl_conf = openssl_init
[openssl_init]
engines = engines
ssl_conf = ssl
[engines]
pkcs11 = pkcs11
[pkcs11]
engine_id = pkcs11
MODULE_PATH = {module}
init = 0
[ssl]
system_default = tls
[tls]
SignatureAlgorithms = RSA+SHA256:RSA+SHA384:RSA+SHA512
"""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--server-ca", required=True, help="CA of the service's TLS certificate")
    p.add_argument("--module", required=True, help="path of liblecteur_pkcs11.so")
    p.add_argument("pin")
    a = p.parse_args()

    prescription = json.dumps({
        "patient_ins": "2800575123456",
        "lines": [{"drug": "PARACETAMOL 500 mg", "posology": "1 comprimé 3 fois par jour, 5 jours"}],
    }, ensure_ascii=False).encode()

    lecteur = Lecteur()
    signed = lecteur.call("cps.sign", pin=a.pin, key="signature",
                          data_b64=base64.b64encode(prescription).decode())
    # The service's own assertion profile is not public: a VIHF, signed by the
    # same verification, stands in for it.
    situation = lecteur.call("cps.info")["situations"][0]["index"]
    assertion = lecteur.call(
        "dmp.vihf",
        situation=situation,
        patient={"ins": "2800575123456", "oid": "1.2.250.1.213.1.4.10"},
        purpose_of_use="normal",
        lps={"id": "LECTEUR-DEMO", "name": "lecteur e-prescription example", "version": "1.0",
             "homologation": "TEST"},
        mode="DIRECTE",
    )["assertion"]
    lecteur.call("cps.logout")
    lecteur.close()

    body = json.dumps({
        "document_b64": base64.b64encode(prescription).decode(),
        "signature_b64": signed["signature_b64"],
        "certificate_der_b64": signed["certificate_der_b64"],
        "assertion": assertion,
    })
    # The TLS client key never leaves the card: curl asks the PKCS#11 module,
    # which asks lecteurd, which asks the card (INTERNAL AUTHENTICATE).
    key = "pkcs11:object=CPS_PRIV_AUT;type=private"
    cert = "pkcs11:object=Certificat%20d%27Authentification%20CPS;type=cert"
    # OpenSSL configuration for curl: load the pkcs11 engine with lecteur's
    # module, and offer only RSA PKCS#1 v1.5 signatures in the handshake (a
    # CPS3 authentication key cannot make RSA-PSS ones, which TLS prefers).
    conf_dir = tempfile.TemporaryDirectory()
    conf = os.path.join(conf_dir.name, "openssl.cnf")
    with open(conf, "w") as f:
        f.write(OPENSSL_CONF.format(module=a.module))
    env = dict(os.environ, OPENSSL_CONF=conf)
    # The PIN reaches curl (which logs in through the module) by a pipe: never
    # on a command line, never in a file.
    pin_r, pin_w = os.pipe()
    os.write(pin_w, f'pass = "{a.pin}"\n'.encode())
    os.close(pin_w)
    try:
        out = subprocess.run(
            ["curl", "--silent", "--show-error", "--fail-with-body", "--tlsv1.2", "--tls-max", "1.2",
             "-K", f"/dev/fd/{pin_r}", "--engine", "pkcs11", "--key-type", "ENG", "--key", key,
             "--cert-type", "ENG", "--cert", cert, "--cacert", a.server_ca,
             "-H", "Content-Type: application/json", "--data-binary", "@-", a.url],
            input=body.encode(), capture_output=True, env=env, pass_fds=(pin_r,),
        )
    finally:
        os.close(pin_r)
        conf_dir.cleanup()
    if out.returncode:
        sys.exit(f"the service refused: {out.stdout.decode()} {out.stderr.decode()}")
    print(out.stdout.decode())


if __name__ == "__main__":
    main()
