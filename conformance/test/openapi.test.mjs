// GET /openapi.json checked by an independent validator: @apidevtools/swagger-parser
// validates the document against the OpenAPI 3.1 schema and resolves every
// $ref in it. That the server's real answers hold to the document's schemas
// is tests/api/openapi.rs.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import SwaggerParser from '@apidevtools/swagger-parser';

import { startServer } from '../lib/server.mjs';

let server;
let doc;

before(async () => {
  server = await startServer({ name: 'openapi' });
  const response = await fetch(`${server.baseUrl}/openapi.json`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  doc = await response.json();
});

after(async () => {
  await server?.stop();
});

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document, every $ref resolving', async () => {
    assert.match(doc.openapi, /^3\.1\./);
    // validate() changes what it is given; keep the fetched document as it was.
    const api = await SwaggerParser.validate(structuredClone(doc));
    assert.equal(api.info.title, 'behalf');
    assert.deepEqual(doc.servers, [{ url: server.baseUrl }]);
  });

  it('names the agent API with the bearer scheme and the account grant with the session cookie', () => {
    for (const [path, method] of [
      ['/api/access-requests', 'post'],
      ['/api/access-requests', 'get'],
      ['/api/access-requests/{id}', 'get'],
      ['/api/access-requests/{id}', 'delete'],
      ['/api/grants', 'get'],
      ['/api/grants/{id}', 'get'],
      ['/api/grants/{id}', 'delete'],
    ]) {
      assert.deepEqual(doc.paths[path]?.[method]?.security, [{ agent_token: [] }], `${method} ${path}`);
    }
    assert.deepEqual(doc.paths['/account/grants'].post.security, [{ session: [] }]);
    assert.equal(doc.components.securitySchemes.agent_token.scheme, 'bearer');
  });

  it('is refused by the same validator once broken, so the check above means something', async () => {
    const dangling = structuredClone(doc);
    dangling.paths['/api/grants'].get.responses['200'].content['application/json'].schema = {
      $ref: '#/components/schemas/NoSuchSchema',
    };
    await assert.rejects(SwaggerParser.validate(dangling));
    const misspelt = structuredClone(doc);
    misspelt.paths['/api/grants'].get.responsez = misspelt.paths['/api/grants'].get.responses;
    delete misspelt.paths['/api/grants'].get.responses;
    await assert.rejects(SwaggerParser.validate(misspelt));
  });
});
