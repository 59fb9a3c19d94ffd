// The API client: JSON in and out, the CSRF token on every write, the journey version a write
// is based on, and the error envelope ({"error": {"code", "message", "details"}}) as ApiError.

import { gettext, interpolate } from "./i18n.js";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const error = (body && body.error) || {};
    super(
      error.message || fallback || interpolate(gettext("The server answered %(status)s."), { status }, true),
    );
    this.status = status;
    this.code = error.code || "";
    this.details = error.details || {};
  }

  /** The messages for one field, or all of them when `field` is not given or not present. */
  messages(field) {
    const details = this.details || {};
    if (field && details[field]) return [].concat(details[field]).map(String);
    const all = Object.values(details).flat().map(String);
    return all.length ? all : [this.message];
  }
}

export async function api(method, url, body, headers = {}) {
  const options = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...headers },
  };
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(0, null, gettext("Could not reach the server: check your connection."));
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * A write based on journey `version`: the version goes in the JSON body (`"version": 7`), or,
 * for a write without a body (DELETE), in an `If-Match: "7"` header. A stale version is
 * answered 409 version_conflict.
 */
export function write(method, url, version, body) {
  if (body === undefined) return api(method, url, undefined, { "If-Match": `"${version}"` });
  return api(method, url, { ...body, version });
}

/** The journey version a write answered with (stage and touchpoint writes: `journey_version`). */
export function versionIn(data) {
  if (data && typeof data.journey_version === "number") return data.journey_version;
  if (data && typeof data.version === "number") return data.version;
  return null;
}
