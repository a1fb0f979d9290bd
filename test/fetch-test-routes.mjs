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
// Each waits no longer than its connection: a cancelled or timed-out request ends it.

const LINE = 'The quiet harbour keeps its boats and lanterns until the morning tide. ';

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
