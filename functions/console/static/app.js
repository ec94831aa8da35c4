// The review console: sign in with an API key, then the start page (#/) or an item
// (#/items/<review id>). The key lives in this tab's session storage and goes to the
// hub's own API as the x-api-key header, never in a URL.

import { ApiError, apiKey, call, onKeyRefused } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { showItem } from "./item.js";
import { showQueue } from "./queue.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signOutButton = document.getElementById("signout");
let page = null; // the page shown: { stop(), key(event) }

const open = (id) => {
  location.hash = `#/items/${encodeURIComponent(id)}`;
};

function chrome(signedIn) {
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
}

function route() {
  page?.stop();
  page = null;
  if (!apiKey.get()) {
    showSignIn();
    return;
  }
  chrome(true);
  const item = /^#\/items\/(.+)$/.exec(location.hash);
  page = item ? showItem(main, decodeURIComponent(item[1]), { open }) : showQueue(main, { open });
  window.scrollTo(0, 0);
}

function showSignIn(message = "") {
  page?.stop();
  page = null;
  chrome(false);
  document.title = "登录 - 发票复核台";
  const error = h("p", { class: "form-error", id: "signin-error", role: "alert" }, message);
  const input = h("input", {
    id: "api_key",
    name: "api_key",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "signin-help signin-error",
  });
  const button = h("button", { type: "submit", class: "primary" }, "登录");
  const form = h(
    "form",
    {
      class: "card signin",
      method: "post",
      "aria-labelledby": "signin-title",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) {
          error.textContent = "请输入 API 密钥。";
          input.focus();
          return;
        }
        button.disabled = true;
        error.textContent = "";
        try {
          // A key that may read the review queue may use the console.
          await call("common/review", { params: { limit: 1 }, key });
        } catch (refusal) {
          button.disabled = false;
          const forbidden = refusal instanceof ApiError && refusal.status === 403;
          error.textContent = forbidden
            ? `${refusal.message}(这个密钥没有复核权限,请使用复核或管理员密钥)`
            : refusal.message;
          input.setAttribute("aria-invalid", "true");
          input.select();
          input.focus();
          return;
        }
        apiKey.set(key);
        route();
      },
    },
    h("h1", { id: "signin-title" }, "登录发票复核台"),
    h("label", { for: "api_key" }, "API 密钥"),
    input,
    h("p", { class: "muted", id: "signin-help" }, "使用复核或管理员角色的密钥。密钥只保存在这个浏览器标签页中,关闭标签页或退出后即失效。"),
    error,
    h("div", { class: "actions" }, button),
  );
  replace(main, h("div", { class: "signin-page" }, form));
  input.focus();
}

signOutButton.addEventListener("click", () => {
  apiKey.clear();
  sessionStorage.clear();
  history.replaceState(null, "", "#/");
  showSignIn();
  toast("已退出");
});

onKeyRefused((refusal) => {
  apiKey.clear();
  showSignIn(refusal.message);
});

document.addEventListener("keydown", (event) => {
  if (!page || event.defaultPrevented || event.altKey) return;
  const save = event.key === "Enter" && (event.ctrlKey || event.metaKey);
  if ((event.ctrlKey || event.metaKey) && !save) return;
  if (!save && event.target.closest?.("input, textarea, select, button, a")) return;
  if (page.key?.(event)) event.preventDefault();
});

window.addEventListener("hashchange", route);
route();
