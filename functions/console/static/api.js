// The hub's API as the console calls it: every request to the page's own origin, the
// reviewer's key in the x-api-key header (kept in this tab's session storage, never in
// a URL), answers in the platform envelope {"resCode", "resMsg", "data"}.

const STORAGE_KEY = "fapiao.console.api_key";

// The page lives at <base>/console/: the API at <base>/ (in AWS <base> is the stage).
const API_ROOT = new URL("../", document.baseURI);

export const apiKey = {
  get: () => sessionStorage.getItem(STORAGE_KEY),
  set: (value) => sessionStorage.setItem(STORAGE_KEY, value),
  clear: () => sessionStorage.removeItem(STORAGE_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status; // HTTP status; 0 when the hub could not be reached
    this.code = code; // the envelope's resCode, when there was one
  }
}

export function apiUrl(path, params = {}) {
  const url = new URL(path, API_ROOT);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

// Listeners hear of a 401 on a call made with the stored key: the key is no longer good.
const refusedListeners = new Set();
export function onKeyRefused(listener) {
  refusedListeners.add(listener);
}

export async function send(path, { method = "GET", params, body, accept = "application/json", key } = {}) {
  const useKey = key ?? apiKey.get();
  const headers = { Accept: accept };
  if (useKey) headers["x-api-key"] = useKey;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(apiUrl(path, params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, null, "无法连接到发票中心,请稍后重试");
  }
  if (response.status === 401 && key === undefined) {
    const error = await failure(response);
    for (const listener of refusedListeners) listener(error);
    throw error;
  }
  return response;
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not an envelope (a gateway's plain answer)
  }
  const message = body?.resMsg ?? body?.message ?? `请求失败(HTTP ${response.status})`;
  return new ApiError(response.status, body?.resCode ?? null, message);
}

// The envelope's data, or an ApiError with the catalogue's message (resMsg).
export async function call(path, options) {
  const response = await send(path, options);
  if (!response.ok) throw await failure(response);
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(response.status, null, "发票中心的回答无法读取");
  }
  if (body?.resCode !== undefined && body.resCode !== 200000) {
    throw new ApiError(response.status, body.resCode, body.resMsg ?? "请求失败");
  }
  return body?.data;
}
