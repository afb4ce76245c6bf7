// A wallet that takes a credential through a VC API exchange the way DCC's Learner
// Credential Wallet does, on the libraries that wallet is built on
// (@digitalcredentials/vc, Ed25519Signature2020; pinned by package-lock.json).
//
//   node lcw-exchange.mjs INTERACTION_URL [--holder-seed HEX32] [--vc-version 1|2]
//
// Reads the protocols behind the interaction URL (`?iuv=1`), posts `{}` to the `vcapi`
// exchange, answers its DIDAuthentication request with a presentation from the did:key
// holder signed with Ed25519Signature2020 (the wallet's suite: it adds its context to the
// presentation's), posted to the request's interact service, and prints
// `{"holder": DID, "credential": ...}` (exit 0) or `{"error": ..., "detail": ...}` (exit 1).
// Contexts come from the libraries' own copies: nothing but the exchange is fetched.
import {getRandomValues} from 'node:crypto';

import * as vc from '@digitalcredentials/vc';
import {Ed25519Signature2020} from '@digitalcredentials/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from
  '@digitalcredentials/ed25519-verification-key-2020';
import {securityLoader} from '@digitalcredentials/security-document-loader';

import {report} from './holder.mjs';

function parseArguments(argv) {
  const [interaction, ...rest] = argv;
  if(!interaction) {
    throw new Error(
      'usage: node lcw-exchange.mjs INTERACTION_URL [--holder-seed HEX32] [--vc-version 1|2]');
  }
  let seed = Buffer.from(getRandomValues(new Uint8Array(32)));
  let version = 2.0;
  for(let i = 0; i < rest.length; i += 2) {
    if(rest[i] === '--holder-seed' && rest[i + 1]) {
      seed = Buffer.from(rest[i + 1], 'hex');
    } else if(rest[i] === '--vc-version' && ['1', '2'].includes(rest[i + 1])) {
      version = Number(rest[i + 1]);
    } else {
      throw new Error(`unexpected argument ${rest[i]}`);
    }
  }
  return {interaction, seed, version};
}

async function json(response) {
  const body = await response.json().catch(() => null);
  if(!response.ok) {
    throw Object.assign(new Error(`${response.url} answered ${response.status}`),
      {response: {body}});
  }
  return body;
}

async function post(url, body) {
  return json(await fetch(url, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
  }));
}

async function main() {
  const {interaction, seed, version} = parseArguments(process.argv.slice(2));
  const key = await Ed25519VerificationKey2020.generate({seed});
  const did = `did:key:${key.fingerprint()}`;
  key.controller = did;
  key.id = `${did}#${key.fingerprint()}`;
  const suite = new Ed25519Signature2020({key});
  const documentLoader = securityLoader({fetchRemoteContexts: false}).build();

  const {protocols} = await json(await fetch(interaction));
  const {verifiablePresentationRequest: request} = await post(protocols.vcapi, {});
  const queries = [].concat(request.query);
  if(!queries.some(query => query.type === 'DIDAuthentication')) {
    throw new Error(`not a DID authentication request: ${JSON.stringify(request)}`);
  }
  const presentation = vc.createPresentation({holder: did, version});
  const signed = await vc.signPresentation({
    presentation, suite, challenge: request.challenge, domain: request.domain, documentLoader
  });
  const endpoint = request.interact?.service?.[0]?.serviceEndpoint ?? protocols.vcapi;
  const answer = await post(endpoint, {verifiablePresentation: signed});
  const [credential] = [].concat(answer.verifiablePresentation.verifiableCredential);
  return {holder: did, presentation: signed, credential};
}

report(main());
