// Server command for browser tests: `set-storage-quota` limits an origin (the
// test page's unless `origin` is given) to `quotaSize` bytes through Chromium's
// DevTools protocol (Storage.overrideQuotaForOrigin), so a test can meet a real
// QuotaExceededError; a payload without quotaSize removes the limit. IndexedDB
// keeps the space it learned an origin has for a while, so the limit holds for
// an origin that has not stored anything yet.
export function storageQuotaPlugin() {
  const sessions = new Map();
  return {
    name: 'storage-quota',
    async executeCommand({ command, payload, session }) {
      if (command !== 'set-storage-quota') return undefined;
      if (session.browser.type !== 'puppeteer') throw new Error('set-storage-quota needs Chromium through puppeteer');
      const page = session.browser.getPage(session.id);
      let cdp = sessions.get(session.id);
      if (!cdp) {
        cdp = await page.createCDPSession();
        sessions.set(session.id, cdp);
      }
      const origin = payload?.origin ?? new URL(page.url()).origin;
      const quotaSize = payload?.quotaSize;
      await cdp.send('Storage.overrideQuotaForOrigin', quotaSize === undefined ? { origin } : { origin, quotaSize });
      if (quotaSize === undefined) {
        sessions.delete(session.id);
        await cdp.detach();
      }
      return true;
    },
  };
}
