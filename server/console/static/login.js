// @ts-check
/** The login page: posts the form as JSON, shows problems next to their field, then goes back. */
import { call, clearErrors, session, showError } from "./api.js";
import { apply, languageSwitch, t } from "./i18n.js";

const form = /** @type {HTMLFormElement} */ (document.getElementById("login-form"));
const params = new URLSearchParams(location.search);
const appInput = /** @type {HTMLInputElement} */ (document.getElementById("app"));
appInput.value = params.get("app") ?? localStorage.getItem("parley.console.app") ?? "";
languageSwitch(/** @type {HTMLSelectElement} */ (document.getElementById("lang")), () => expired());

function expired() {
  if (params.get("expired")) {
    const el = document.getElementById("form-error");
    if (el) el.textContent = t("login.expired");
  }
}
expired();
apply();
(appInput.value ? document.getElementById("username") : appInput)?.focus();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const data = Object.fromEntries(new FormData(form));
  try {
    const me = await call("POST", "login", data);
    session.csrf = me.csrf;
    localStorage.setItem("parley.console.app", String(data.app));
    const next = params.get("next") ?? "";
    // only a path of this console: never an open redirect
    location.assign(next.startsWith("/console/") && !next.startsWith("//") ? next : "/console");
  } catch (error) {
    showError(error, document.getElementById("form-error"), form);
  }
});
