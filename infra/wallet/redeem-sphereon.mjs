// A second wallet that takes a credential offer, on Sphereon's OpenID4VCI client
// (@sphereon/oid4vci-client, pinned by package-lock.json): another implementation
// independent of the project's issuer and of Animo's.
//
//   node redeem-sphereon.mjs OFFER_LINK TX_CODE [--holder-seed HEX32]
//
// Sphereon's newest client speaks draft 15 of OpenID4VCI, the last before 1.0: it reads the
// same offer and metadata, fetches the nonce, and sends its key proof as the singular
// `proof` that 1.0 replaced with `proofs`. It finds the authorization server's metadata by
// appending the well-known path to the server's identifier. Prints
// `{"holder": DID, "credential": ...}` and exits 0, or `{"error": ...}` and exits 1.
import {OpenID4VCIClientV1_0_15} from '@sphereon/oid4vci-client';

import {holderKey, parseArguments, report} from './holder.mjs';

async function main() {
  const {offer, txCode, seed} = parseArguments(process.argv.slice(2), 'redeem-sphereon.mjs');
  const holder = holderKey(seed);
  const client = await OpenID4VCIClientV1_0_15.fromURI({
    uri: offer, kid: holder.kid, alg: 'EdDSA', retrieveServerMetadata: true,
  });
  await client.acquireAccessToken({pin: txCode});
  const [credentialConfigurationId] = client.getCredentialOfferConfigurationIds();
  const response = await client.acquireCredentials({
    credentialConfigurationId,
    format: 'ldp_vc',
    kid: holder.kid,
    alg: 'EdDSA',
    proofCallbacks: {signCallback: async({header, payload}) => holder.signJwt(header, payload)},
  });
  const [issued] = response.credentials;
  return {holder: holder.did, configuration: credentialConfigurationId,
    credential: issued.credential};
}

report(main());
