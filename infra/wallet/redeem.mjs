// A wallet that takes a credential offer, on Animo's OpenID4VCI 1.0 client
// (@openid4vc/openid4vci, pinned by package-lock.json): an implementation independent of
// the project's issuer.
//
//   node redeem.mjs OFFER_LINK TX_CODE [--holder-seed HEX32]
//
// Resolves the `openid-credential-offer://` link, reads the issuer's and the authorization
// server's metadata, trades the pre-authorized code and the transaction code for an access
// token, asks the nonce endpoint for a c_nonce, proves possession of an Ed25519 did:key
// holder key (`kid`: its DID URL) and asks for the offered credential. Prints
// `{"holder": DID, "credential": ...}` and exits 0, or `{"error": ...}` and exits 1.
import {createHash, createPrivateKey, getRandomValues, sign} from 'node:crypto';

import {clientAuthenticationNone} from '@openid4vc/oauth2';
import {Openid4vciClient, setGlobalConfig} from '@openid4vc/openid4vci';

// The alliance's local processes (make run, the tests) answer on http://127.0.0.1.
setGlobalConfig({allowInsecureUrls: true});

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
// The multicodec prefix of an Ed25519 public key in a did:key.
const ED25519_PUB = [0xed, 0x01];

function base58btc(bytes) {
  let number = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let text = '';
  while(number > 0n) {
    text = BASE58[Number(number % 58n)] + text;
    number /= 58n;
  }
  for(const byte of bytes) {
    if(byte !== 0) {
      break;
    }
    text = '1' + text;
  }
  return text;
}

function base64url(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

// An Ed25519 key from a 32-byte seed (PKCS#8 wraps the seed), its did:key and DID URL.
function holderKey(seed) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'});
  const jwk = privateKey.export({format: 'jwk'});
  const publicKey = Buffer.from(jwk.x, 'base64url');
  const did = 'did:key:z' + base58btc(Buffer.concat([Buffer.from(ED25519_PUB), publicKey]));
  return {privateKey, did, kid: `${did}#${did.slice('did:key:'.length)}`,
    publicJwk: {kty: 'OKP', crv: 'Ed25519', x: jwk.x}};
}

function parseArguments(argv) {
  const [offer, txCode, ...rest] = argv;
  if(!offer || !txCode) {
    throw new Error('usage: node redeem.mjs OFFER_LINK TX_CODE [--holder-seed HEX32]');
  }
  let seed = Buffer.from(getRandomValues(new Uint8Array(32)));
  for(let i = 0; i < rest.length; i++) {
    if(rest[i] === '--holder-seed' && i + 1 < rest.length) {
      seed = Buffer.from(rest[++i], 'hex');
    } else {
      throw new Error(`unexpected argument ${rest[i]}`);
    }
  }
  return {offer, txCode, seed};
}

async function main() {
  const {offer, txCode, seed} = parseArguments(process.argv.slice(2));
  const holder = holderKey(seed);
  const callbacks = {
    fetch,
    hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    generateRandom: length => getRandomValues(new Uint8Array(length)),
    clientAuthentication: clientAuthenticationNone({clientId: 'alliance-test-wallet'}),
    signJwt: async(signer, {header, payload}) => {
      const encoded = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
      const signature = sign(null, Buffer.from(encoded), holder.privateKey);
      return {jwt: `${encoded}.${base64url(signature)}`, signerJwk: holder.publicJwk};
    },
  };
  const client = new Openid4vciClient({callbacks});

  const credentialOffer = await client.resolveCredentialOffer(offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode,
  });
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const [credentialConfigurationId] = credentialOffer.credential_configuration_ids;
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId,
    nonce,
    signer: {method: 'did', didUrl: holder.kid, alg: 'EdDSA'},
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId,
    proofs: {jwt: [jwt]},
  });
  const [issued] = response.credentialResponse.credentials;
  return {holder: holder.did, configuration: credentialConfigurationId,
    credential: issued.credential};
}

main().then(result => {
  process.stdout.write(JSON.stringify(result) + '\n');
}, error => {
  const detail = error.response?.body ?? error.errorResponse ?? null;
  process.stdout.write(JSON.stringify({error: String(error.message ?? error), detail}) + '\n');
  process.exitCode = 1;
});
