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
import {createHash, getRandomValues} from 'node:crypto';

import {clientAuthenticationNone} from '@openid4vc/oauth2';
import {Openid4vciClient, setGlobalConfig} from '@openid4vc/openid4vci';

import {holderKey, parseArguments, report} from './holder.mjs';

// The alliance's local processes (make run, the tests) answer on http://127.0.0.1.
setGlobalConfig({allowInsecureUrls: true});

async function main() {
  const {offer, txCode, seed} = parseArguments(process.argv.slice(2), 'redeem.mjs');
  const holder = holderKey(seed);
  const callbacks = {
    fetch,
    hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    generateRandom: length => getRandomValues(new Uint8Array(length)),
    clientAuthentication: clientAuthenticationNone({clientId: 'alliance-test-wallet'}),
    signJwt: async(signer, {header, payload}) =>
      ({jwt: holder.signJwt(header, payload), signerJwk: holder.publicJwk}),
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

report(main());
