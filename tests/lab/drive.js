#!/usr/bin/env node
// drive.js - load pages in the system Chromium through playwright-core and save
// Chromium's own view of every request (raw CDP Network events, a normalized
// per-request list, and the page's Resource/Navigation Timing entries).
//
//   node drive.js CONFIG.json
//
// CONFIG: {
//   "executable": "/usr/bin/chromium",
//   "user_data_dir": DIR,            // fresh, removed by the caller
//   "env": {...},                    // HOME (NSS db), SSLKEYLOGFILE, ...
//   "args": [...],                   // extra Chromium switches
//   "urls": [URL, ...],              // navigations, in order, one tab
//   "cache_disabled": true,          // Network.setCacheDisabled
//   "settle_ms": 700,                // quiet time after "load" before the next step
//   "timeout_ms": 60000,             // per navigation
//   "pause_ms": 0,                   // wait between navigations
//   "out": "devtools.json"
// }
// Never downloads a browser: executablePath is always given.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const NET_EVENTS = [
  'Network.requestWillBeSent',
  'Network.requestWillBeSentExtraInfo',
  'Network.responseReceived',
  'Network.responseReceivedExtraInfo',
  'Network.dataReceived',
  'Network.loadingFinished',
  'Network.loadingFailed',
  'Network.requestServedFromCache',
  'Network.resourceChangedPriority',
];

// The browser's real argv (Playwright's defaults + ours), read from /proc:
// the child of this node process whose command line names the executable.
function browserCommandLine(executable) {
  try {
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(pid)) continue;
      let stat;
      try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch (e) { continue; }
      const ppid = parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1], 10);
      if (ppid !== process.pid) continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length && argv[0] === executable) return argv;
    }
  } catch (e) { /* not Linux */ }
  return null;
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function header(headers, name) {
  if (!headers) return null;
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() === name) return headers[k];
  }
  return null;
}

// One entry per HTTP exchange ("hop"): a redirect and its target share a CDP
// requestId but are two exchanges on the wire.
function normalize(events) {
  const hops = [];
  const current = new Map(); // requestId -> hop
  const finish = (hop, response) => {
    hop.status = response.status;
    hop.status_text = response.statusText;
    hop.protocol = response.protocol || null;
    hop.remote_ip = response.remoteIPAddress || null;
    hop.remote_port = response.remotePort || null;
    hop.connection_id = response.connectionId === undefined ? null : response.connectionId;
    hop.connection_reused = response.connectionReused === undefined ? null : response.connectionReused;
    hop.from_disk_cache = !!response.fromDiskCache;
    hop.from_service_worker = !!response.fromServiceWorker;
    hop.mime_type = response.mimeType || null;
    hop.security_protocol = response.securityDetails ? response.securityDetails.protocol : null;
    hop.cipher = response.securityDetails ? response.securityDetails.cipher : null;
    hop.alpn_alternative = header(response.headers, 'alt-svc');
    hop.content_encoding = header(response.headers, 'content-encoding');
    hop.content_length = header(response.headers, 'content-length');
    hop.response_headers = response.headers || {};
    hop.timing = response.timing || null;
    hop.alternate_protocol_usage = response.alternateProtocolUsage || null;
    hop.encoded_data_length_at_headers = response.encodedDataLength;
  };
  for (const ev of events) {
    const p = ev.params;
    switch (ev.method) {
      case 'Network.requestWillBeSent': {
        const prev = current.get(p.requestId);
        if (prev && p.redirectResponse) {
          finish(prev, p.redirectResponse);
          prev.redirected_to = p.request.url;
          prev.encoded_data_length = p.redirectResponse.encodedDataLength;
          prev.finished = true;
        }
        const hop = {
          request_id: p.requestId, navigation: ev.navigation, url: p.request.url,
          method: p.request.method, type: p.type || null, initiator: p.initiator ? p.initiator.type : null,
          wall_time: p.wallTime, timestamp: p.timestamp, priority: p.request.initialPriority,
          request_headers: p.request.headers, status: null, protocol: null,
          data_length: 0, encoded_body_length: 0, data_chunks: 0,
          encoded_data_length: null, finished: false, failed: null,
        };
        hops.push(hop);
        current.set(p.requestId, hop);
        break;
      }
      case 'Network.requestWillBeSentExtraInfo': {
        const hop = current.get(p.requestId);
        if (hop) hop.request_headers_wire = p.headers;
        break;
      }
      case 'Network.responseReceived': {
        const hop = current.get(p.requestId);
        if (hop) { finish(hop, p.response); hop.type = p.type || hop.type; }
        break;
      }
      case 'Network.responseReceivedExtraInfo': {
        const hop = current.get(p.requestId);
        if (hop) hop.response_headers_text_length = p.headersText ? p.headersText.length : null;
        break;
      }
      case 'Network.dataReceived': {
        const hop = current.get(p.requestId);
        if (hop) {
          hop.data_length += p.dataLength;
          hop.encoded_body_length += p.encodedDataLength;
          hop.data_chunks += 1;
        }
        break;
      }
      case 'Network.loadingFinished': {
        const hop = current.get(p.requestId);
        if (hop) {
          hop.encoded_data_length = p.encodedDataLength;
          hop.finished = true;
          hop.finished_timestamp = p.timestamp;
        }
        break;
      }
      case 'Network.loadingFailed': {
        const hop = current.get(p.requestId);
        if (hop) {
          hop.failed = p.errorText + (p.canceled ? ' (canceled)' : '');
          hop.finished_timestamp = p.timestamp;
        }
        break;
      }
      case 'Network.requestServedFromCache': {
        const hop = current.get(p.requestId);
        if (hop) hop.served_from_cache = true;
        break;
      }
      default:
        break;
    }
  }
  return hops;
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15)));

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const started = Date.now();
  const context = await chromium.launchPersistentContext(cfg.user_data_dir, {
    executablePath: cfg.executable || '/usr/bin/chromium',
    headless: true,
    args: cfg.args || [],
    env: { ...process.env, ...(cfg.env || {}) },
    ignoreHTTPSErrors: false,
    // record.py stops us with SIGTERM to our process group (Chromium included)
    handleSIGTERM: false,
    handleSIGINT: false,
    handleSIGHUP: false,
    timeout: cfg.timeout_ms || 60000,
  });
  const page = context.pages()[0] || (await context.newPage());
  const cdp = await context.newCDPSession(page);
  const events = [];
  let navigation = 0;
  const inflight = new Set();
  let lastActivity = Date.now();
  for (const m of NET_EVENTS) {
    cdp.on(m, (params) => {
      events.push({ method: m, navigation, wall: Date.now() / 1000, params });
      lastActivity = Date.now();
      if (m === 'Network.requestWillBeSent') inflight.add(params.requestId);
      if (m === 'Network.loadingFinished' || m === 'Network.loadingFailed') inflight.delete(params.requestId);
    });
  }
  await cdp.send('Network.enable', { maxTotalBufferSize: 0, maxResourceBufferSize: 0 });
  if (cfg.cache_disabled !== false) await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const version = await cdp.send('Browser.getVersion');
  const commandLine = browserCommandLine(cfg.executable || '/usr/bin/chromium');

  const navigations = [];
  for (const url of cfg.urls) {
    navigation += 1;
    const nav = { index: navigation, url, started: Date.now() / 1000 };
    try {
      const resp = await page.goto(url, { waitUntil: 'load', timeout: cfg.timeout_ms || 60000 });
      nav.status = resp ? resp.status() : null;
      nav.final_url = page.url();
    } catch (e) {
      nav.error = String(e && e.message ? e.message.split('\n')[0] : e);
    }
    // settle: no request in flight for settle_ms (bounded by timeout)
    const settle = cfg.settle_ms === undefined ? 700 : cfg.settle_ms;
    const deadline = Date.now() + (cfg.timeout_ms || 60000);
    while (Date.now() < deadline && (inflight.size > 0 || Date.now() - lastActivity < settle)) {
      await sleep(50);
    }
    nav.inflight_left = inflight.size;
    try {
      nav.performance = await page.evaluate(() => ({
        time_origin: performance.timeOrigin,
        navigation: performance.getEntriesByType('navigation').map((e) => e.toJSON()),
        resource: performance.getEntriesByType('resource').map((e) => e.toJSON()),
      }));
    } catch (e) {
      nav.performance = null;
      nav.performance_error = String(e);
    }
    nav.ended = Date.now() / 1000;
    navigations.push(nav);
    if (cfg.pause_ms) await sleep(cfg.pause_ms);
  }
  await cdp.detach().catch(() => {});
  await context.close();
  const out = {
    format: 'pagetrace-lab-devtools/1',
    browser: version,
    command_line: commandLine,
    args: cfg.args || [],
    started: started / 1000,
    ended: Date.now() / 1000,
    navigations,
    requests: normalize(events),
    events,
  };
  fs.writeFileSync(cfg.out, JSON.stringify(out, null, 1));
  const bad = navigations.filter((n) => n.error);
  for (const n of bad) console.log(`drive.js: navigation ${n.index} to ${n.url} failed after ${((n.ended - n.started) * 1000).toFixed(0)} ms: ${n.error}`);
  console.log(`drive.js: ${navigations.length} navigation(s), ${out.requests.length} request(s), ${bad.length} failed`);
  process.exit(bad.length ? 1 : 0);
}

main().catch((e) => { console.error('drive.js:', e); process.exit(2); });
