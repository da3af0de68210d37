// Shared helpers of every console page: login token, API calls, header + role-aware nav, messages, dialogs.
// Plain ES module, no build step. See hallserver/console/README.md for the conventions.

const TOKEN_KEY = "hallq.token";
const USER_KEY = "hallq.user";
export const API = "/api/v1";

// The nav: every page a role may open. `roles` null = everyone logged in.
export const NAV = [
  { page: "staff", href: "/console/staff", label: "窗口工作台", roles: null },
  { page: "floor", href: "/console/floor", label: "大厅监控", roles: ["chief", "manager", "admin"] },
  { page: "desk", href: "/console/desk", label: "评价整改", roles: ["chief", "manager", "admin"] },
  { page: "cases", href: "/console/cases", label: "办件管理", roles: null },
  { page: "complaints", href: "/console/complaints", label: "投诉与办不成事", roles: null },
  { page: "reports", href: "/console/reports", label: "统计报表", roles: ["chief", "manager", "admin"] },
  { page: "whatif", href: "/console/whatif", label: "调度推演", roles: ["manager", "admin"] },
];
export const MANAGERS = ["chief", "manager", "admin"];
export const ROLE_LABELS = { staff: "窗口人员", chief: "首席代表", manager: "大厅管理员", admin: "系统管理员" };

export class ApiError extends Error {
  constructor(status, code, message, data) {
    super(message);
    this.status = status;
    this.code = code;
    this.data = data || {};
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function currentUser() {
  const raw = sessionStorage.getItem(USER_KEY);
  return raw ? JSON.parse(raw) : null;
}

export function saveLogin(tokenValue, user) {
  sessionStorage.setItem(TOKEN_KEY, tokenValue);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function clearLogin() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

export function toLogin() {
  const next = encodeURIComponent(location.pathname + location.search);
  location.replace(`/console/login?next=${next}`);
}

// Where a role starts after login.
export function homeFor(user) {
  return user && ["manager", "admin"].includes(user.role) ? "/console/floor" : "/console/staff";
}

// fetch() with the bearer token; JSON in and out. Errors become ApiError carrying the server's Chinese
// message ({"error": {code, message, data}}); a 401 logs out and goes to the login page.
// opts: {method, body, quiet (no toast on error), raw (return the Response)}.
export async function api(path, opts = {}) {
  const headers = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  let body;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, {
      method: opts.method || (body ? "POST" : "GET"),
      headers,
      body,
    });
  } catch (e) {
    const err = new ApiError(0, "network", "无法连接大厅服务器，请检查网络后重试");
    if (!opts.quiet) toast(err.message, "bad");
    throw err;
  }
  if (response.status === 401 && !opts.noRedirect) {
    clearLogin();
    toLogin();
    throw new ApiError(401, "unauthorized", "登录已失效，请重新登录");
  }
  if (opts.raw && response.ok) return response;
  const text = await response.text();
  const data = text ? safeJson(text) : null;
  if (!response.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(response.status, e.code || "error", e.message || `请求失败（${response.status}）`, e.data);
    if (!opts.quiet) toast(err.message, "bad");
    throw err;
  }
  return data;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// el("div", {class: "x", onclick: f}, "text", child, [more children]) — a tiny DOM builder.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// A short message at the bottom right; kind: ok | bad | info.
export function toast(message, kind = "info", ms = 4000) {
  let box = $("#toasts");
  if (!box) {
    box = el("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const item = el("div", { class: `toast toast-${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), ms);
  return item;
}

// "12分30秒" / "1小时05分" from seconds.
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}小时${String(m).padStart(2, "0")}分`;
  return `${m}分${String(s % 60).padStart(2, "0")}秒`;
}

// "2026-11-23 09:05" from an ISO timestamp (the server sends the hall's zone).
export function clockTime(iso, withDate = false) {
  if (!iso) return "—";
  const [d, t] = iso.split("T");
  return withDate ? `${d} ${t.slice(0, 5)}` : t.slice(0, 5);
}

// Open a <dialog> built from `content`; resolves with the value passed to close(value) or null (Esc/取消).
// build(close) returns the dialog's body nodes.
export function modal(title, build) {
  return new Promise((resolve) => {
    const dlg = el("dialog", { class: "modal" });
    const close = (value) => {
      dlg.close();
      dlg.remove();
      resolve(value === undefined ? null : value);
    };
    dlg.append(el("h2", {}, title), ...[].concat(build(close)));
    dlg.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(null);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector("[autofocus], input, textarea, select, button.btn-primary");
    if (first) first.focus();
  });
}

// Ask for one line of text (e.g. a reason); resolves with the text or null.
export function prompt(title, label, opts = {}) {
  return modal(title, (close) => {
    const input = el(opts.multiline ? "textarea" : "input", {
      class: "input",
      name: opts.name || "text",
      placeholder: opts.placeholder || "",
      maxlength: opts.max || 200,
      autofocus: true,
    });
    const form = el(
      "form",
      {
        method: "dialog",
        onsubmit: (e) => {
          e.preventDefault();
          const v = input.value.trim();
          if (opts.required !== false && v.length < (opts.min || 1)) {
            toast(`请填写${label}`, "bad");
            return;
          }
          close(v);
        },
      },
      el("label", { class: "field" }, el("span", {}, label), input),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", class: "btn", onclick: () => close(null) }, "取消"),
        el("button", { type: "submit", class: "btn btn-primary" }, opts.ok || "确定"),
      ),
    );
    return form;
  });
}

function renderHeader(user, active, hallName) {
  const header = $("#top") || el("header", { id: "top" });
  const links = NAV.filter((n) => !n.roles || n.roles.includes(user.role)).map((n) =>
    el("a", { href: n.href, class: n.page === active ? "nav-link active" : "nav-link" }, n.label),
  );
  header.replaceChildren(
    el("div", { class: "brand" }, el("strong", {}, hallName || "政务服务中心"), el("span", { class: "muted" }, " 工作台")),
    el("nav", { id: "nav" }, links),
    el(
      "div",
      { class: "who" },
      el("span", { id: "who-name" }, user.display_name),
      el("span", { class: "badge" }, ROLE_LABELS[user.role] || user.role),
      el("button", { class: "btn btn-small", id: "logout", onclick: logout }, "退出"),
    ),
  );
  if (!header.parentNode) document.body.prepend(header);
}

export async function logout() {
  try {
    await api("auth/logout", { method: "POST", quiet: true, noRedirect: true });
  } catch {
    // the token may already be gone
  }
  clearLogin();
  location.replace("/console/login");
}

// Start a page: needs a login (else → login page), draws header + nav, and checks the page's roles
// (<body data-page="desk" data-roles="chief,manager,admin">). Resolves with the user from /auth/me, or
// null when the user may not open the page (then <main> says 无权访问 and nothing else should run).
export async function boot() {
  const page = document.body.dataset.page || "";
  const roles = (document.body.dataset.roles || "").split(",").filter(Boolean);
  if (!token()) {
    toLogin();
    return null;
  }
  const [user, hall] = await Promise.all([api("auth/me"), api("hall", { quiet: true }).catch(() => null)]);
  sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  renderHeader(user, page, hall && hall.name);
  document.title = `${document.title} — ${hall ? hall.name : "政务服务中心"}`;
  if (roles.length && !roles.includes(user.role)) {
    const main = $("main") || document.body;
    main.replaceChildren(
      el(
        "section",
        { class: "panel denied", id: "denied" },
        el("h1", {}, "无权访问"),
        el("p", {}, `您的账号（${ROLE_LABELS[user.role] || user.role}）无权打开此页面。`),
        el("p", {}, el("a", { href: homeFor(user), class: "btn btn-primary" }, "返回我的工作台")),
      ),
    );
    document.body.classList.add("is-denied");
    document.body.dataset.ready = "1";
    return null;
  }
  return user;
}
