#!/usr/bin/env python3
"""A practice software's first steps with lecteurd, in plain Python 3 (no
dependency): read the carte Vitale, sign a prescription with the CPS, build a
VIHF assertion for the DMP.

    LECTEUR_SOCKET=/run/lecteur/lecteur.sock python3 lecteur_demo.py [PIN]

The last line printed is a JSON summary (used by lecteur's own tests).
"""
import base64
import json
import os
import socket
import sys


def socket_path():
    """Where lecteurd listens: $LECTEUR_SOCKET first, as the lecteur CLI does."""
    if os.environ.get("LECTEUR_SOCKET"):
        return os.environ["LECTEUR_SOCKET"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(os.environ["XDG_RUNTIME_DIR"], "lecteur.sock")
    return "/run/lecteur/lecteur.sock"


class LecteurError(Exception):
    """A JSON-RPC error: `kind` is the stable name (pin_incorrect, no_card...)."""

    def __init__(self, error):
        data = error.get("data") or {}
        self.code = error.get("code")
        self.kind = data.get("kind")
        self.data = data
        super().__init__(f"{error.get('message')} ({self.kind})")


class Lecteur:
    """One connection: JSON-RPC 2.0, one request per line. A PIN verified on
    this connection is usable by this connection only."""

    def __init__(self, path=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path or socket_path())
        self.file = self.sock.makefile("rwb")
        self.next_id = 1

    def call(self, method, **params):
        request_id = self.next_id
        self.next_id += 1
        line = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        self.file.write(json.dumps(line).encode() + b"\n")
        self.file.flush()
        while True:
            raw = self.file.readline()
            if not raw:
                raise ConnectionError("lecteurd closed the connection")
            msg = json.loads(raw)
            if "method" in msg:  # an event notification: not our answer
                continue
            if msg.get("id") != request_id:
                raise ConnectionError(f"answer to another request: {msg}")
            if "error" in msg:
                raise LecteurError(msg["error"])
            return msg["result"]

    def close(self):
        self.file.close()
        self.sock.close()


def main():
    pin = sys.argv[1] if len(sys.argv) > 1 else "1234"  # the simulator's test PIN
    lecteur = Lecteur()
    summary = {}

    readers = lecteur.call("readers.list")
    for r in readers:
        card = r["card"]["kind"] if r["card"] else "-"
        print(f"reader {r['id']}: {r['name']} [{card}]")

    vitale = lecteur.call("vitale.read")
    for b in vitale["beneficiaries"]:
        # Patient data is shown to the user, never logged.
        birth = b["birth_date"]["iso"] or b["birth_date"]["raw"] + " (lunar)"
        print(f"beneficiary: {b['surname']} {b['first_name']}, born {birth}")
    summary["beneficiaries"] = len(vitale["beneficiaries"])

    info = lecteur.call("cps.info")
    holder = info["holder"]
    print(f"CPS: {holder['given_name']} {holder['surname']}, {info['pin']['tries_left']} PIN tries left")
    if info["pin"]["tries_left"] <= 1:
        sys.exit("one PIN try left: ask the holder before trying")

    document = "ordonnance de test".encode()
    try:
        signed = lecteur.call(
            "cps.sign",
            pin=pin,
            key="signature",
            data_b64=base64.b64encode(document).decode(),
        )
    except LecteurError as e:
        if e.kind == "pin_incorrect":
            sys.exit(f"wrong PIN, {e.data.get('tries_left')} tries left")
        raise
    print(f"signature: {len(base64.b64decode(signed['signature_b64']))} bytes")
    summary["signed_b64"] = base64.b64encode(document).decode()
    summary["signature_b64"] = signed["signature_b64"]
    summary["certificate_der_b64"] = signed["certificate_der_b64"]

    # The PIN was verified on this connection by cps.sign: the situations
    # d'exercice are readable now, and the VIHF needs no PIN again.
    situation = lecteur.call("cps.info")["situations"][0]
    print(f"situation {situation['index']}: {situation['structure_name']}")
    vihf = lecteur.call(
        "dmp.vihf",
        situation=situation["index"],
        patient={"ins": "2800575123456", "oid": "1.2.250.1.213.1.4.10"},
        purpose_of_use="normal",
        lps={"id": "LECTEUR-DEMO", "name": "lecteur demo", "version": "1.0", "homologation": "TEST"},
        mode="DIRECTE",
    )
    print(f"VIHF assertion: {len(vihf['assertion'])} characters")
    summary["vihf"] = vihf["assertion"]

    lecteur.call("cps.logout")
    lecteur.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
