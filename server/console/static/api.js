// @ts-check
/**
 * Calls to the console API (`/console/api/...`): the session cookie goes by itself (HttpOnly),
 * the CSRF token in the `X-CSRF-Token` header of every state-changing request. A 401 means the
 * session ended: the page is sent to the login page, which brings the user back here; text
 * typed into fields marked `data-keep` is kept in sessionStorage meanwhile ({@link keep}).
 */

/** A problem+json answer: `detail` for people, `code` for code, `field` when it is about one input. */
export class ApiError extends Error {
  /** @param {number} status @param {{detail?: string, code?: string, field?: string, path?: string}} problem */
  constructor(status, problem) {
    super(problem.detail || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code ?? "";
    this.field = problem.field ?? "";
    /** Where in a segment rule the problem is (`@<column>` of the text, or a JSON pointer). */
    this.path = problem.path ?? "";
  }
}

/** @type {{csrf: string, me: any}} */
export const session = { csrf: "", me: null };

/** Send the browser to the login page; it comes back to this page afterwards. */
export function toLogin() {
  const next = encodeURIComponent(location.pathname);
  location.assign(`/console/login?next=${next}&expired=1`);
}

/**
 * One API call; JSON in and out. Throws {@link ApiError}; on 401 goes to the login page first.
 * @param {string} method
 * @param {string} path under /console/api
 * @param {unknown} [body]
 */
export async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = session.csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`/console/api/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (r.status === 401 && path !== "login") {
    toLogin();
    throw new ApiError(401, { detail: "session ended", code: "not_authenticated" });
  }
  if (r.status === 204) return null;
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/** Who is logged in (and the CSRF token); goes to the login page if nobody. */
export async function loadMe() {
  session.me = await call("GET", "me");
  session.csrf = session.me.csrf;
  return session.me;
}

/**
 * Keep what is typed into `el` across a forced login: saved on every input under `key`, restored now.
 * @param {HTMLInputElement | HTMLTextAreaElement} el
 * @param {string} key
 */
export function keep(el, key) {
  const stored = sessionStorage.getItem(`keep:${key}`);
  if (stored !== null && !el.value) el.value = stored;
  el.oninput = () => {
    if (el.value) sessionStorage.setItem(`keep:${key}`, el.value);
    else sessionStorage.removeItem(`keep:${key}`);
  };
}

/** Forget what {@link keep} saved under `key` (the text was sent). @param {string} key */
export function forget(key) {
  sessionStorage.removeItem(`keep:${key}`);
}

/**
 * Show an API error next to its field (an element `#<field>-error`), else in `fallback`.
 * @param {unknown} error
 * @param {HTMLElement | null} fallback
 * @param {ParentNode} [root]
 */
export function showError(error, fallback, root = document) {
  const message = error instanceof Error ? error.message : String(error);
  const field = error instanceof ApiError && error.field ? root.querySelector(`#${CSS.escape(error.field)}-error`) : null;
  const target = field ?? fallback;
  if (target) target.textContent = message;
  const input = error instanceof ApiError && error.field ? root.querySelector(`#${CSS.escape(error.field)}`) : null;
  if (input instanceof HTMLElement) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

/** Clear every field error under `root`. @param {ParentNode} root */
export function clearErrors(root) {
  for (const el of root.querySelectorAll(".field-error, .form-error")) el.textContent = "";
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}
