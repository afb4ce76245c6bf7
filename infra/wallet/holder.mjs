// The wallet's holder key and its command line, shared by the two independent clients
// (redeem.mjs on Animo's library, redeem-sphereon.mjs on Sphereon's).
import {createPrivateKey, getRandomValues, sign} from 'node:crypto';

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

export function base64url(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

// An Ed25519 key from a 32-byte seed (PKCS#8 wraps the seed), its did:key and DID URL, and
// a compact JWS signer for a JWT's header and payload.
export function holderKey(seed) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'});
  const jwk = privateKey.export({format: 'jwk'});
  const publicKey = Buffer.from(jwk.x, 'base64url');
  const did = 'did:key:z' + base58btc(Buffer.concat([Buffer.from(ED25519_PUB), publicKey]));
  const signJwt = (header, payload) => {
    const encoded = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    return `${encoded}.${base64url(sign(null, Buffer.from(encoded), privateKey))}`;
  };
  return {did, kid: `${did}#${did.slice('did:key:'.length)}`,
    publicJwk: {kty: 'OKP', crv: 'Ed25519', x: jwk.x}, signJwt};
}

// `SCRIPT OFFER_LINK TX_CODE [--holder-seed HEX32]`; without a seed the holder is a fresh key.
export function parseArguments(argv, script) {
  const [offer, txCode, ...rest] = argv;
  if(!offer || !txCode) {
    throw new Error(`usage: node ${script} OFFER_LINK TX_CODE [--holder-seed HEX32]`);
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

// Prints the outcome as one JSON line: exit 0 with the credential, exit 1 with the refusal.
export function report(run) {
  run.then(result => {
    process.stdout.write(JSON.stringify(result) + '\n');
  }, error => {
    const detail = error.response?.body ?? error.errorResponse ?? null;
    process.stdout.write(JSON.stringify({error: String(error.message ?? error), detail}) + '\n');
    process.exitCode = 1;
  });
}
