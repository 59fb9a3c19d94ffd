/* MomentMap's browser snippet. A store pastes one tag into its pages:
 *   <script src="https://APP/static/js/momentmap.js" data-key="mm_pk_…" defer></script>
 * It runs on the store's site, not ours: a classic script with no imports, no dependencies
 * and no build step. It sends a page_view on load, and what the store calls:
 *   momentmap.track(name, properties)   any event, e.g. "checkout_start"
 *   momentmap.page(properties)          another page_view (single-page apps)
 *   momentmap.productView(properties)   product_view
 *   momentmap.addToCart(properties)     add_to_cart
 *   momentmap.anonymousId()             the visitor's id, for identify from the store's server
 *   momentmap.consent(true | false)     see data-consent
 *   momentmap.flush()                   send what is queued now
 * Attributes: data-key (the publishable key), data-endpoint (MomentMap's origin; default the
 * script's own), data-consent="required" (nothing stored and nothing sent until consent(true);
 * consent(false) clears what is stored), data-page-view="off" (no page_view on load).
 * Events are queued and sent every few seconds, and with sendBeacon when the page is hidden
 * or left, as text/plain JSON, which a browser sends across origins without a preflight. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.momentmap) return; // pasted twice: the first copy does the work

  const FLUSH_MS = 5000;
  const SESSION_MS = 30 * 60 * 1000; // a new session after 30 minutes without events
  const BATCH_EVENTS = 50;
  const BATCH_BYTES = 60000; // sendBeacon and keep-alive fetch carry at most 64 KB in flight
  const QUEUE_MAX = 500; // held while offline; the oldest go first
  const TRIES = 3;
  const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
  const ANONYMOUS = "momentmap_aid";
  const SESSION = "momentmap_sid";
  const CONSENT = "momentmap_consent";

  const data = script.dataset;
  const key = data.key || "";
  const origin = (data.endpoint || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  const endpoint = `${origin}/api/v1/events/browser/`;
  const consentRequired = data.consent === "required";
  const warn = (message) => window.console && console.warn(`momentmap: ${message}`);

  // First-party storage: localStorage, or a cookie where it is blocked or full.
  const read = (name) => {
    try {
      const value = localStorage.getItem(name);
      if (value !== null) return value;
    } catch (error) { /* storage blocked: try the cookie */ }
    const match = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
    return match ? decodeURIComponent(match[1]) : null;
  };
  const cookie = (name, value, seconds) => {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `${name}=${encodeURIComponent(value)}; path=/; max-age=${seconds}; SameSite=Lax${secure}`;
  };
  const write = (name, value) => {
    try {
      localStorage.setItem(name, value);
      return;
    } catch (error) { /* storage blocked: a cookie instead */ }
    cookie(name, value, 400 * 24 * 3600); // the longest a browser keeps a cookie
  };
  const forget = (name) => {
    try { localStorage.removeItem(name); } catch (error) { /* nothing stored there */ }
    if (document.cookie.indexOf(`${name}=`) !== -1) cookie(name, "", 0);
  };

  const uuid = () => {
    const crypto = window.crypto;
    if (crypto && crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
    const bytes = new Uint8Array(16);
    if (crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };

  let consented = !consentRequired || read(CONSENT) === "granted";
  let queue = []; // {event, tries}; events tracked before consent wait here, unsent
  let timer = null;
  const encoder = new TextEncoder();

  const anonymousId = () => {
    if (!consented) return null;
    let id = read(ANONYMOUS);
    if (!id) {
      id = uuid();
      write(ANONYMOUS, id);
    }
    return id;
  };

  // The session in use at `now`, renewed after SESSION_MS without events.
  const sessionAt = (now) => {
    const [id, last] = (read(SESSION) || "").split("|");
    const session = id && now - Number(last) < SESSION_MS ? id : uuid();
    write(SESSION, `${session}|${now}`);
    return session;
  };

  // Give an event its visitor and session: at once with consent, else when it is given.
  const stamp = (entry) => {
    if (entry.event.anonymous_id) return;
    entry.event.anonymous_id = anonymousId();
    entry.event.session_id = sessionAt(entry.at);
  };

  const post = (entries, beacon) => {
    const body = JSON.stringify({ key, events: entries.map((entry) => entry.event) });
    if (beacon && navigator.sendBeacon &&
        navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    // Offline, a server error or a limit: back to the queue, up to TRIES sends in all (the
    // ids make a resend that did arrive a duplicate, stored once).
    const retry = () => {
      for (const entry of entries) entry.tries += 1;
      const again = entries.filter((entry) => entry.tries < TRIES);
      if (again.length && consented) {
        queue = again.concat(queue).slice(-QUEUE_MAX);
        schedule();
      }
    };
    fetch(endpoint, {
      method: "POST",
      body,
      headers: { "Content-Type": "text/plain" },
      credentials: "omit",
      keepalive: true,
    }).then((response) => {
      if (response.status === 429 || response.status >= 500) return retry();
      if (!response.ok) {
        return response.json().then((answer) => warn(answer.error.message), () => warn(`HTTP ${response.status}`));
      }
      if (response.status === 200) {
        return response.json().then((answer) => {
          for (const error of answer.errors || []) warn(`event ${entries[error.index].event.name}: ${error.message}`);
        });
      }
      return undefined;
    }, retry); // offline, or an answer this page may not read (another origin's page)
  };

  const flush = (beacon) => {
    clearTimeout(timer);
    timer = null;
    if (!consented || !key) return;
    while (queue.length) {
      let size = 0;
      let count = 0;
      while (count < queue.length && count < BATCH_EVENTS) {
        size += encoder.encode(JSON.stringify(queue[count].event)).length + 1;
        if (count && size > BATCH_BYTES) break;
        count += 1;
      }
      post(queue.splice(0, count), beacon === true);
    }
  };

  const schedule = () => {
    if (!timer && consented && queue.length) timer = setTimeout(flush, FLUSH_MS);
  };

  const track = (name, properties) => {
    if (!NAME.test(String(name))) {
      warn(`"${name}" is not an event name (1 to 64 letters, digits or _ . : -)`);
      return;
    }
    const entry = {
      at: Date.now(),
      tries: 0,
      event: { id: uuid(), name: String(name), occurred_at: new Date().toISOString() },
    };
    if (properties && typeof properties === "object") entry.event.properties = properties;
    if (consented) stamp(entry);
    queue.push(entry);
    if (queue.length > QUEUE_MAX) queue.shift();
    schedule();
  };

  // Where the visitor is, without the query string (it may carry tokens or an email), except
  // the utm_ parameters that say which campaign brought them.
  const page = (properties) => {
    const here = { path: location.pathname, title: document.title };
    if (document.referrer) {
      const referrer = new URL(document.referrer);
      here.referrer = referrer.origin + referrer.pathname;
    }
    new URLSearchParams(location.search).forEach((value, name) => {
      if (name.indexOf("utm_") === 0) here[name] = value;
    });
    track("page_view", Object.assign(here, properties));
  };

  const consent = (granted) => {
    if (granted) {
      consented = true;
      if (consentRequired) write(CONSENT, "granted");
      queue.forEach(stamp);
      schedule();
    } else {
      consented = false;
      queue = [];
      clearTimeout(timer);
      timer = null;
      [ANONYMOUS, SESSION, CONSENT].forEach(forget);
    }
  };

  window.momentmap = {
    track,
    page,
    productView: (properties) => track("product_view", properties),
    addToCart: (properties) => track("add_to_cart", properties),
    anonymousId,
    consent,
    flush: () => flush(false),
  };
  if (!key) warn("the script tag has no data-key (the store's publishable key): nothing is sent");

  // Leaving or hiding the page: what is queued goes with sendBeacon, which outlives the page.
  window.addEventListener("pagehide", () => flush(true));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush(true);
  });
  if (data.pageView !== "off") page();
})();
