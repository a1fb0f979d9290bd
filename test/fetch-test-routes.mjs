// Dev-server routes for download tests (test/browser/download.test.ts and others), under /fetch-test/:
//   silent                 accepts the request and never answers
//   file[/NAME]?bytes=N    N bytes of text, made as they are sent (a 30 MB file costs nothing until read);
//     &length=no           without Content-Length (chunked)
//     &send=K              only the first K bytes, then nothing more (a stalled download)
//     &chunk=C&delay=D     C bytes at a time, D ms apart
//     &name=X              a Content-Disposition file name
//     &type=T              the Content-Type (default text/plain)
//     &body=B              B as the text (repeated to N bytes; the whole of it when N is not given)
//     &once=ID             answers 410 Gone to every request after the first with this ID
//   redirect?to=PATH       a 302 to PATH
//   gpt2/OPTIONS/FILE      a GPT-2-shaped small model's config.json, vocab.json, merges.txt or model.safetensors
//                          (test/gpt2-test-files.mjs), with Range requests (206) and an ETag. OPTIONS is
//                          `key=value` pairs joined by commas ('-' for none):
//     seed=N                 the weights' seed (default 1); dtype=F16 for half-precision weights
//     tag=T                  counts this source's requests, and lets gpt2-control change how it answers
//     chunk=C,delay=D        model.safetensors C bytes at a time, D ms apart (a slow download)
//     stop=N                 model.safetensors breaks off the connection at byte N of the file, once per tag
//     range=no               ignores Range: every answer is the whole file (200)
//     range=hidden           answers Range with a 206 that does not say which part (no Content-Range)
//     missing=FILE           404 for FILE;  html=FILE: a web page instead of FILE
//     set=KEY:VALUE          config.json's KEY is VALUE (a number): a config that does not match the weights
//     vocabsize=N            vocab.json keeps only ids below N
//   gpt2-control?tag=T[&offline=1|0][&version=V]   what tag T's requests were (JSON: requests, each
//                          { file, range }, and bytes sent); offline=1: every request of T fails (the
//                          connection is dropped); version=V: the files' ETag changes, as for a new upload
// Each waits no longer than its connection: a cancelled or timed-out request ends it.

const LINE = 'The quiet harbour keeps its boats and lanterns until the morning tide. ';

import { createHash } from 'node:crypto';
import { gpt2Safetensors, gpt2TokenizerFiles, TEST_CONFIG } from './gpt2-test-files.mjs';

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const served = new Set();

export async function fetchTestRoutes(ctx, next) {
  if (!ctx.path.startsWith('/fetch-test/')) return next();
  // file/any-name.txt is the file route too: a name in the address.
  const route = ctx.path.slice('/fetch-test/'.length).split('/')[0];
  const query = ctx.query;
  const res = ctx.res;
  ctx.respond = false;
  ctx.status = 200; // what the dev server logs; the routes write their own status
  let closed = false;
  const gone = new Promise((resolve) => res.on('close', resolve)).then(() => (closed = true));

  if (route === 'redirect') {
    res.writeHead(302, { location: String(query.to) });
    res.end();
    return;
  }
  if (route === 'gpt2-control') return gpt2Control(query, res);
  if (route === 'gpt2') return gpt2Route(ctx.path, ctx.get('range'), res, gone);
  if (route === 'silent') {
    await gone;
    return;
  }
  if (route !== 'file' || (query.once && served.has(query.once))) {
    res.writeHead(route === 'file' ? 410 : 404);
    res.end();
    return;
  }
  if (query.once) served.add(query.once);
  const text = Buffer.from(typeof query.body === 'string' ? query.body : LINE);
  const bytes = query.bytes === undefined ? text.length : Number(query.bytes);
  const send = query.send === undefined ? bytes : Math.min(bytes, Number(query.send));
  const chunk = Number(query.chunk ?? 64 * 1024);
  const delay = Number(query.delay ?? 0);
  const headers = { 'content-type': String(query.type ?? 'text/plain; charset=utf-8'), 'cache-control': 'no-store' };
  if (query.length !== 'no') headers['content-length'] = String(bytes);
  if (query.name) headers['content-disposition'] = `attachment; filename="${query.name}"`;
  res.writeHead(200, headers);
  let sent = 0;
  while (sent < send && !closed) {
    const size = Math.min(chunk, send - sent);
    const part = Buffer.alloc(size);
    for (let i = 0; i < size; i++) part[i] = text[(sent + i) % text.length];
    sent += size;
    if (!res.write(part)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
    if (delay) await Promise.race([wait(delay), gone]);
  }
  if (sent < bytes) await gone;
  else res.end();
}

/** Per tag: the requests seen, whether it is offline, and the files' version. */
const tags = new Map();
const tagState = (tag) => {
  if (!tags.has(tag)) tags.set(tag, { requests: [], bytes: 0, offline: false, version: '1', stopped: false });
  return tags.get(tag);
};
/** Files made, by the options that make them. */
const made = new Map();

function gpt2Control(query, res) {
  const state = tagState(String(query.tag));
  if (query.offline !== undefined) state.offline = query.offline === '1';
  if (query.version !== undefined) state.version = String(query.version);
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ requests: state.requests, bytes: state.bytes }));
}

function gpt2File(file, options) {
  const key =
    file === 'model.safetensors'
      ? `${file} ${options.seed} ${options.dtype}`
      : `${file} ${file === 'config.json' ? options.set : ''} ${file === 'vocab.json' ? options.vocabsize : ''}`;
  if (made.has(key)) return made.get(key);
  let bytes;
  const config = { ...TEST_CONFIG };
  for (const pair of String(options.set ?? '')
    .split(';')
    .filter(Boolean)) {
    const [name, value] = pair.split(':');
    config[name] = Number(value);
  }
  if (file === 'config.json') bytes = Buffer.from(JSON.stringify(config, null, 2));
  else if (file === 'vocab.json') {
    const { vocab } = gpt2TokenizerFiles();
    const limit = Number(options.vocabsize ?? Infinity);
    bytes = Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(vocab).filter(([, id]) => id < limit))));
  } else if (file === 'merges.txt') bytes = Buffer.from(gpt2TokenizerFiles().merges);
  else if (file === 'model.safetensors') {
    bytes = gpt2Safetensors({ ...TEST_CONFIG }, Number(options.seed ?? 1), options.dtype ?? 'F32');
  } else return undefined;
  made.set(key, bytes);
  return bytes;
}

async function gpt2Route(path, range, res, gone) {
  const [, optionText = '-', file = ''] = path.slice(1).split('/').slice(1);
  const options = Object.fromEntries(
    optionText === '-' ? [] : optionText.split(',').map((pair) => pair.split('=').map(decodeURIComponent)),
  );
  const state = tagState(options.tag ?? '');
  state.requests.push(range ? { file, range } : { file });
  if (state.offline) {
    res.destroy();
    return;
  }
  const bytes = options.missing === file ? undefined : gpt2File(file, options);
  if (!bytes) {
    res.writeHead(404, 'Not Found', { 'content-type': 'text/plain' });
    res.end('Entry not found');
    return;
  }
  if (options.html === file) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in to continue</body></html>');
    return;
  }
  const etag = `"${createHash('sha1').update(bytes).update(state.version).digest('hex').slice(0, 16)}"`;
  const headers = { etag, 'accept-ranges': options.range === 'no' ? 'none' : 'bytes', 'cache-control': 'no-store' };
  headers['content-type'] = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
  let from = 0;
  const asked = /^bytes=(\d+)-$/.exec(range ?? '');
  if (asked && options.range !== 'no') {
    from = Number(asked[1]);
    if (from >= bytes.length) {
      res.writeHead(416, { 'content-range': `bytes */${bytes.length}` });
      res.end();
      return;
    }
    if (options.range !== 'hidden') headers['content-range'] = `bytes ${from}-${bytes.length - 1}/${bytes.length}`;
  }
  headers['content-length'] = String(bytes.length - from);
  res.writeHead(from > 0 ? 206 : 200, headers);
  const slow = file === 'model.safetensors';
  const chunk = slow && options.chunk ? Number(options.chunk) : 256 * 1024;
  const delay = slow ? Number(options.delay ?? 0) : 0;
  const stop = slow && options.stop !== undefined && !state.stopped ? Number(options.stop) : Infinity;
  let closed = false;
  void gone.then(() => (closed = true));
  for (let at = from; at < bytes.length && !closed;) {
    const end = Math.min(bytes.length, at + chunk, stop > at ? stop : Infinity);
    const part = bytes.subarray(at, end);
    state.bytes += part.length;
    at = end;
    if (!res.write(part)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
    if (at === stop) {
      state.stopped = true;
      // Let what was written leave and be read, then drop the connection mid-file.
      await Promise.race([wait(1000), gone]);
      res.destroy();
      return;
    }
    if (delay) await Promise.race([wait(delay), gone]);
  }
  res.end();
}
