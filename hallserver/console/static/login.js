// The login page: POST /auth/login, keep the token in sessionStorage, go where the user was headed.
import { $, api, homeFor, saveLogin } from "./common.js";

api("hall", { quiet: true })
  .then((hall) => {
    $("#hall-name").textContent = hall.name;
    document.title = `登录 — ${hall.name}`;
  })
  .catch(() => {});

function target(user) {
  const next = new URLSearchParams(location.search).get("next");
  // only our own pages: never redirect off the console
  return next && next.startsWith("/console/") && !next.startsWith("/console/login") ? next : homeFor(user);
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = $("#login-error");
  error.textContent = "";
  const button = $("#login-submit");
  button.disabled = true;
  try {
    const out = await api("auth/login", {
      body: { username: $("#username").value.trim(), password: $("#password").value },
      quiet: true,
      noRedirect: true,
    });
    saveLogin(out.token, out.user);
    let to = target(out.user);
    // a page that is not installed (yet) must not strand the user on an error: fall back to the desk
    if (!(await fetch(to, { method: "HEAD" }).then((r) => r.ok).catch(() => false))) to = "/console/staff";
    location.replace(to);
  } catch (err) {
    error.textContent = err.message;
  } finally {
    button.disabled = false;
  }
});
