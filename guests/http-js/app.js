// The JavaScript wasi:http handler: a `wasi:http/proxy` component built with
// componentize-js (see build.sh) that the tests of `tern serve` can serve to
// check that a StarlingMonkey (SpiderMonkey) handler works on Tern. It does
// what ../http-py/app.py does, with the same responses but for the name in
// `/hello` and the 404. Routes, by the request's path without its query:
//
//   - `/hello`: 200, `content-type: text/plain`, `Hello from JavaScript!`
//   - `/echo`: 200 with `x-method` (the method's name) and
//     `x-path-with-query` telling what the handler saw, every request header
//     named `x-*` copied back, and the request body, read to its end, sent
//     back as the body
//   - `/status/N`: status N, empty body (400 when N is no status code)
//   - `/stderr`: prints `guest log line` to stderr, then 200 `logged`
//   - anything else: 404 `not found by JavaScript` (naming the language, so
//     that a test can tell it from the server's own 404)
//
// The handler exports `incoming-handler` itself and uses the wasi:http
// types directly, as app.py does, rather than StarlingMonkey's fetch event
// (see build.sh for why). console.error writes to stderr. A JS exception
// escaping the handler traps; the server answers for it.
//
// Serve with: tern serve handler.wasm

import {
  Fields,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
} from 'wasi:http/types@0.2.12';

const encoder = new TextEncoder();

const METHOD_NAMES = {
  get: 'GET',
  head: 'HEAD',
  post: 'POST',
  put: 'PUT',
  delete: 'DELETE',
  connect: 'CONNECT',
  options: 'OPTIONS',
  trace: 'TRACE',
  patch: 'PATCH',
};

function methodName(method) {
  return method.tag === 'other' ? method.val : METHOD_NAMES[method.tag];
}

// The WASI error value of an exception: bindings throw a WIT `result`'s
// error either as the value itself (`{ tag, val }` for stream-error) or
// wrapped in a ComponentError with it as `payload` (jco's bindings).
function wasiError(e) {
  return e && typeof e === 'object' && 'payload' in e ? e.payload : e;
}

// Reads the request's body to its end.
function readBody(request) {
  const body = request.consume();
  const stream = body.stream();
  const chunks = [];
  let total = 0;
  for (;;) {
    let chunk;
    try {
      chunk = stream.blockingRead(65536n);
    } catch (e) {
      if (wasiError(e)?.tag === 'closed') break;
      throw e;
    }
    chunks.push(chunk);
    total += chunk.length;
  }
  // The stream is a child of the body: drop it first.
  stream[Symbol.dispose]();
  body[Symbol.dispose]();
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

function echo(request, responseOut, full) {
  const headers = [
    ['x-method', encoder.encode(methodName(request.method()))],
    ['x-path-with-query', encoder.encode(full)],
  ];
  const fields = request.headers();
  for (const [name, value] of fields.entries()) {
    if (name.toLowerCase().startsWith('x-')) headers.push([name, value]);
  }
  fields[Symbol.dispose]();
  respond(responseOut, 200, headers, readBody(request));
}

// Sends the response: `status` (400 if it is no status code), `headers`
// (name and bytes) and all of `body` (a string or bytes).
function respond(responseOut, status, headers, body) {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const response = new OutgoingResponse(Fields.fromList(headers));
  try {
    response.setStatusCode(status);
  } catch {
    response.setStatusCode(400);
  }
  const outgoing = response.body();
  ResponseOutparam.set(responseOut, { tag: 'ok', val: response });
  const stream = outgoing.write();
  // At most 4096 bytes a call, as blocking-write-and-flush wants.
  for (let at = 0; at < bytes.length; at += 4096) {
    stream.blockingWriteAndFlush(bytes.subarray(at, at + 4096));
  }
  // The stream is a child of the body: drop it before finishing the body.
  stream[Symbol.dispose]();
  OutgoingBody.finish(outgoing, undefined);
}

export const incomingHandler = {
  handle(request, responseOut) {
    const full = request.pathWithQuery() ?? '';
    const path = full.split('?', 1)[0];
    if (path === '/hello') {
      const type = [['content-type', encoder.encode('text/plain')]];
      respond(responseOut, 200, type, 'Hello from JavaScript!\n');
    } else if (path === '/echo') {
      echo(request, responseOut, full);
    } else if (path === '/stderr') {
      console.error('guest log line');
      respond(responseOut, 200, [], 'logged\n');
    } else if (path.startsWith('/status/')) {
      const n = path.slice('/status/'.length);
      if (/^[0-9]+$/.test(n)) {
        respond(responseOut, Number(n), [], '');
      } else {
        respond(responseOut, 400, [], 'not a status code\n');
      }
    } else {
      respond(responseOut, 404, [], 'not found by JavaScript\n');
    }
  },
};
