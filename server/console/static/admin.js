// @ts-check
/** The admin page: console users (add or replace, log out everywhere) and the canned replies. */
import { call, clearErrors, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import "./i18n_more.js"; // the tag-definition card's words, before the page's words are applied
import { startShell } from "./shell.js";

/** @type {{title: string, text: string}[]} */
let canned = [];

await startShell("admin", () => { drawUsers().catch(() => {}); drawCanned(); });

async function drawUsers() {
  const users = await call("GET", "users");
  const body = document.getElementById("users");
  body?.replaceChildren(
    ...users.map((/** @type {any} */ u) => {
      const out = el("button", { type: "button", class: "secondary", text: t("admin.logoutUser") });
      out.addEventListener("click", () => call("POST", `users/${encodeURIComponent(u.username)}/logout-everywhere`).catch((e) => showError(e, document.getElementById("user-form-error"))));
      return el("tr", { "data-user": u.username }, [
        el("td", { text: u.username }),
        el("td", { text: u.name }),
        el("td", { text: u.roles.map((/** @type {string} */ r) => t(`role.${r}`)).join(", ") }),
        el("td", {}, [out]),
      ]);
    }),
  );
}

const form = /** @type {HTMLFormElement} */ (document.getElementById("user-form"));
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const data = new FormData(form);
  const saved = document.getElementById("user-saved");
  try {
    await call("POST", "users", {
      username: String(data.get("username") ?? ""),
      name: String(data.get("name") ?? ""),
      password: String(data.get("password") ?? ""),
      roles: data.getAll("roles").map(String),
    });
    form.reset();
    if (saved) saved.textContent = t("admin.saved");
    await drawUsers();
  } catch (error) {
    if (saved) saved.textContent = "";
    showError(error, document.getElementById("user-form-error"), form);
  }
});

function drawCanned() {
  const box = document.getElementById("canned");
  box?.replaceChildren(
    ...canned.map((r, i) => {
      const title = /** @type {HTMLInputElement} */ (el("input", { "aria-label": t("admin.cannedTitle"), placeholder: t("admin.cannedTitle") }));
      const text = /** @type {HTMLTextAreaElement} */ (el("textarea", { rows: "2", "aria-label": t("admin.cannedText"), placeholder: t("admin.cannedText") }));
      title.value = r.title;
      text.value = r.text;
      title.addEventListener("input", () => { canned[i].title = title.value; });
      text.addEventListener("input", () => { canned[i].text = text.value; });
      const remove = el("button", { type: "button", class: "danger", text: t("admin.remove") });
      remove.addEventListener("click", () => { canned.splice(i, 1); drawCanned(); });
      return el("div", { class: "canned-row" }, [title, text, remove]);
    }),
  );
}

document.getElementById("add-canned")?.addEventListener("click", () => { canned.push({ title: "", text: "" }); drawCanned(); });
document.getElementById("save-canned")?.addEventListener("click", async () => {
  const error = document.getElementById("canned-error");
  const saved = document.getElementById("canned-saved");
  if (error) error.textContent = "";
  try {
    canned = await call("PUT", "canned", { replies: canned });
    drawCanned();
    if (saved) saved.textContent = t("admin.saved");
  } catch (e) {
    if (saved) saved.textContent = "";
    showError(e, error);
  }
});

canned = await call("GET", "canned");
drawCanned();
await drawUsers();
