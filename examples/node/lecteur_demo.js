#!/usr/bin/env node
// A practice software's first steps with lecteurd, in Node.js (no dependency):
// read the carte Vitale, sign a prescription with the CPS, build a VIHF
// assertion for the DMP.
//
//   LECTEUR_SOCKET=/run/lecteur/lecteur.sock node lecteur_demo.js [PIN]
//
// The last line printed is a JSON summary (used by lecteur's own tests).
'use strict';
const net = require('net');
const path = require('path');
const readline = require('readline');

// Where lecteurd listens: $LECTEUR_SOCKET first, as the lecteur CLI does.
function socketPath() {
  if (process.env.LECTEUR_SOCKET) return process.env.LECTEUR_SOCKET;
  if (process.env.XDG_RUNTIME_DIR) return path.join(process.env.XDG_RUNTIME_DIR, 'lecteur.sock');
  return '/run/lecteur/lecteur.sock';
}

// A JSON-RPC error: `kind` is the stable name (pin_incorrect, no_card...).
class LecteurError extends Error {
  constructor(error) {
    const data = error.data || {};
    super(`${error.message} (${data.kind})`);
    this.code = error.code;
    this.kind = data.kind;
    this.data = data;
  }
}

// One connection: JSON-RPC 2.0, one request per line. A PIN verified on this
// connection is usable by this connection only.
class Lecteur {
  constructor(socket) {
    this.nextId = 1;
    this.pending = new Map();
    this.conn = net.createConnection(socket || socketPath());
    this.ready = new Promise((resolve, reject) => {
      this.conn.once('connect', resolve);
      this.conn.once('error', reject);
    });
    readline.createInterface({ input: this.conn }).on('line', (line) => {
      const msg = JSON.parse(line);
      if (msg.method) return; // an event notification: not an answer
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new LecteurError(msg.error));
      else waiter.resolve(msg.result);
    });
    this.conn.on('close', () => {
      for (const w of this.pending.values()) w.reject(new Error('lecteurd closed the connection'));
      this.pending.clear();
    });
  }

  async call(method, params = {}) {
    await this.ready;
    const id = this.nextId++;
    const answer = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.conn.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    return answer;
  }

  close() {
    this.conn.end();
  }
}

async function main() {
  const pin = process.argv[2] || '1234'; // the simulator's test PIN
  const lecteur = new Lecteur();
  const summary = {};

  for (const r of await lecteur.call('readers.list')) {
    console.log(`reader ${r.id}: ${r.name} [${r.card ? r.card.kind : '-'}]`);
  }

  const vitale = await lecteur.call('vitale.read');
  for (const b of vitale.beneficiaries) {
    // Patient data is shown to the user, never logged.
    const birth = b.birth_date.iso || `${b.birth_date.raw} (lunar)`;
    console.log(`beneficiary: ${b.surname} ${b.first_name}, born ${birth}`);
  }
  summary.beneficiaries = vitale.beneficiaries.length;

  const info = await lecteur.call('cps.info');
  console.log(`CPS: ${info.holder.given_name} ${info.holder.surname}, ${info.pin.tries_left} PIN tries left`);
  if (info.pin.tries_left <= 1) throw new Error('one PIN try left: ask the holder before trying');

  const document = Buffer.from('ordonnance de test');
  let signed;
  try {
    signed = await lecteur.call('cps.sign', { pin, key: 'signature', data_b64: document.toString('base64') });
  } catch (e) {
    if (e.kind === 'pin_incorrect') throw new Error(`wrong PIN, ${e.data.tries_left} tries left`);
    throw e;
  }
  console.log(`signature: ${Buffer.from(signed.signature_b64, 'base64').length} bytes`);
  summary.signed_b64 = document.toString('base64');
  summary.signature_b64 = signed.signature_b64;
  summary.certificate_der_b64 = signed.certificate_der_b64;

  // The PIN was verified on this connection by cps.sign: the situations
  // d'exercice are readable now, and the VIHF needs no PIN again.
  const situation = (await lecteur.call('cps.info')).situations[0];
  console.log(`situation ${situation.index}: ${situation.structure_name}`);
  const vihf = await lecteur.call('dmp.vihf', {
    situation: situation.index,
    patient: { ins: '2800575123456', oid: '1.2.250.1.213.1.4.10' },
    purpose_of_use: 'normal',
    lps: { id: 'LECTEUR-DEMO', name: 'lecteur demo', version: '1.0', homologation: 'TEST' },
    mode: 'DIRECTE',
  });
  console.log(`VIHF assertion: ${vihf.assertion.length} characters`);
  summary.vihf = vihf.assertion;

  await lecteur.call('cps.logout');
  lecteur.close();
  console.log(JSON.stringify(summary));
}

main().catch((e) => {
  console.error(`lecteur_demo: ${e.message}`);
  process.exit(1);
});
