// Signs a holder's DID authentication the way DCC's Learner Credential Wallet does, with
// Digital Bazaar's libraries: a VerifiablePresentation from a did:key holder, with an
// eddsa-rdfc-2022 `authentication` proof for a verifier's challenge and domain.
//
//   node present.mjs SEED_HEX CHALLENGE DOMAIN --context URL=FILE [--context ...]
//
// The seed (32 bytes) makes the holder's Ed25519 key; nothing is fetched. Prints the signed
// presentation as JSON.
import {readFileSync} from 'node:fs';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const VC_V2 = 'https://www.w3.org/ns/credentials/v2';

const [seedHex, challenge, domain, ...rest] = process.argv.slice(2);
const contexts = new Map();
for(let i = 0; i < rest.length; i += 2) {
  if(rest[i] !== '--context' || rest[i + 1] === undefined) {
    throw new Error(`unexpected argument ${rest[i]}`);
  }
  const at = rest[i + 1].indexOf('=');
  contexts.set(
    rest[i + 1].slice(0, at), JSON.parse(readFileSync(rest[i + 1].slice(at + 1), 'utf8')));
}
const documentLoader = async url => {
  const document = contexts.get(url);
  if(document === undefined) {
    throw new Error(`document ${url} is not available offline`);
  }
  return {contextUrl: null, documentUrl: url, document};
};

const key = await Ed25519Multikey.generate({seed: Buffer.from(seedHex, 'hex')});
const did = `did:key:${key.publicKeyMultibase}`;
key.controller = did;
key.id = `${did}#${key.publicKeyMultibase}`;
const suite = new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022});
const presentation = {
  '@context': [VC_V2], type: ['VerifiablePresentation'], holder: did
};
const signed = await vc.signPresentation({
  presentation, suite, challenge, domain, documentLoader
});
console.log(JSON.stringify(signed));
