// Verifies a credential with digitalbazaar's Data Integrity stack (eddsa-rdfc-2022), an
// implementation independent of the project's Python library.
//
//   node verify.mjs CREDENTIAL.json --did DID_DOCUMENT.json [--did ...]
//        --context URL=FILE [--context ...] [--status-list STATUS_LIST.json ...]
//
// The document loader serves only the contexts and DID documents named on the command
// line: nothing is fetched. With --status-list, each BitstringStatusListEntry is checked
// against that list, whose own proof is verified the same way; without it, status is
// reported as unchecked. Prints a JSON result; exits 0 only when verified (1 when not,
// 2 on a usage error).
import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

function parseArguments(argv) {
  const options = {credential: null, dids: [], contexts: new Map(), statusLists: []};
  for(let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const value = () => {
      if(i + 1 >= argv.length) {
        throw new Error(`${argument} needs a value`);
      }
      return argv[++i];
    };
    if(argument === '--did') {
      options.dids.push(readJson(value()));
    } else if(argument === '--context') {
      const [url, file] = splitOnce(value(), '=');
      options.contexts.set(url, readJson(file));
    } else if(argument === '--status-list') {
      options.statusLists.push(readJson(value()));
    } else if(options.credential === null && !argument.startsWith('--')) {
      options.credential = readJson(argument);
    } else {
      throw new Error(`unexpected argument ${argument}`);
    }
  }
  if(options.credential === null) {
    throw new Error('no credential file given');
  }
  return options;
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  if(at < 1) {
    throw new Error(`expected URL=FILE, got ${text}`);
  }
  return [text.slice(0, at), text.slice(at + 1)];
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

// Contexts by URL; DID documents by DID; a verification method (DID#fragment) as the
// method object found in its controller's document.
function localDocumentLoader({contexts, dids}) {
  const documents = new Map(dids.map(document => [document.id, document]));
  return async url => {
    let document = contexts.get(url);
    if(document === undefined) {
      const [did, fragment] = splitFragment(url);
      const didDocument = documents.get(did);
      if(didDocument !== undefined && fragment === null) {
        document = didDocument;
      } else if(didDocument !== undefined) {
        const method = (didDocument.verificationMethod || []).find(
          candidate => absolute(candidate.id, did) === url);
        if(method !== undefined) {
          document = {'@context': MULTIKEY_V1, ...method, id: url};
        }
      }
    }
    if(document === undefined) {
      throw new Error(`document ${url} is not available offline`);
    }
    return {contextUrl: null, documentUrl: url, document};
  };
}

function splitFragment(url) {
  const at = url.indexOf('#');
  return at < 0 ? [url, null] : [url.slice(0, at), url.slice(at + 1)];
}

function absolute(reference, did) {
  return reference.startsWith('#') ? did + reference : reference;
}

function statusChecker({statusLists, suite, documentLoader}) {
  const lists = new Map(statusLists.map(list => [list.id, list]));
  return async ({credential}) => {
    const entries = [credential.credentialStatus].flat();
    const checked = [];
    for(const entry of entries) {
      if(entry.type !== 'BitstringStatusListEntry') {
        return {verified: false, error: `unsupported status type ${entry.type}`};
      }
      const list = lists.get(entry.statusListCredential);
      if(list === undefined) {
        checked.push(`${entry.statusPurpose}: unchecked (no status list given)`);
        continue;
      }
      const listResult = await vc.verifyCredential({
        credential: list, suite, documentLoader
      });
      if(!listResult.verified) {
        return {verified: false, error: `status list: ${describe(listResult)}`};
      }
      if(issuerId(list) !== issuerId(credential)) {
        return {verified: false, error: 'status list issued by someone else'};
      }
      const subject = list.credentialSubject;
      if(subject.statusPurpose !== entry.statusPurpose) {
        return {verified: false, error: `not a ${entry.statusPurpose} list`};
      }
      const bits = decodeList(subject.encodedList);
      const index = Number.parseInt(entry.statusListIndex, 10);
      // Index 0 is the most significant bit of the first byte.
      if(bits[index >> 3] & (0x80 >> (index & 7))) {
        return {verified: false, error: `${entry.statusPurpose} bit set`};
      }
      checked.push(`${entry.statusPurpose}: clear`);
    }
    return {verified: true, checked};
  };
}

function decodeList(encoded) {
  if(!encoded.startsWith('u')) {
    throw new Error('encodedList is not multibase base64url');
  }
  return gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
}

function issuerId(credential) {
  const {issuer} = credential;
  return typeof issuer === 'string' ? issuer : issuer?.id;
}

function describe(result) {
  const errors = [];
  const collect = error => {
    if(!error) {
      return;
    }
    if(Array.isArray(error)) {
      error.forEach(collect);
    } else if(Array.isArray(error.errors)) {
      error.errors.forEach(collect);
    } else {
      errors.push(error.message || String(error));
    }
  };
  collect(result.error);
  collect(result.statusResult?.error);
  for(const entry of result.results || []) {
    collect(entry.error);
  }
  return [...new Set(errors)].join('; ') || 'not verified';
}

async function main() {
  let options;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch(error) {
    console.log(JSON.stringify({verified: false, error: `usage: ${error.message}`}));
    return 2;
  }
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const documentLoader = localDocumentLoader(options);
  const checkStatus = statusChecker({...options, suite, documentLoader});
  const result = await vc.verifyCredential({
    credential: options.credential, suite, documentLoader, checkStatus
  });
  const output = {
    verified: result.verified,
    verifier: 'digitalbazaar @digitalbazaar/vc + eddsa-rdfc-2022-cryptosuite',
    verificationMethod: result.results?.[0]?.verificationMethod?.id ?? null,
    status: result.statusResult ?? null,
    error: result.verified ? null : describe(result)
  };
  console.log(JSON.stringify(output, null, 2));
  return result.verified ? 0 : 1;
}

process.exitCode = await main();
